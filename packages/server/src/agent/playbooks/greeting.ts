import type { Playbook } from '../playbook.ts';

/** Hellos and thanks: answered warmly, never mistaken for a task. */
export const greeting: Playbook = {
  id: 'greeting',
  label: 'greeting',
  reactive: true,
  alone: true,
  signals: {
    phrases: [
      { text: 'hi' },
      { text: 'hello' },
      { text: 'hey' },
      { text: 'good morning' },
      { text: 'good afternoon' },
      { text: 'good evening' },
    ],
  },
  steps: [{ kind: 'say', text: "Hi! I'm the virtual assistant. What can I help you with today?" }],
};

export const thanks: Playbook = {
  id: 'thanks',
  label: 'thanks',
  reactive: true,
  signals: { phrases: [{ text: 'thanks' }, { text: 'thank you' }, { text: 'thx' }, { text: 'appreciate it' }] },
  steps: [{ kind: 'say', text: "You're welcome! Is there anything else I can help with?" }],
};
