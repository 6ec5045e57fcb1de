import { useEffect, useRef } from 'react';

const SHORTCUTS: readonly [string, string][] = [
  ['j / k', 'Next / previous conversation'],
  ['a', 'Accept the offer on screen'],
  ['d', 'Decline the offer on screen'],
  ['r or /', 'Focus the reply box'],
  ['Enter', 'Send (Shift+Enter: new line)'],
  ['Alt+N', 'Switch between reply and internal note'],
  ['Alt+T', 'Transfer'],
  ['Alt+H', 'Hand back to the AI'],
  ['Alt+R', 'Resolve'],
  ['Esc', 'Close a dialog'],
  ['?', 'This list'],
];

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="shortcuts-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="dialog-actions">
        <button type="button" className="button primary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
