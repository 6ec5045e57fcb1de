import { z } from 'zod';

const KEY = 'baton.chat.v1';

const ChatSession = z.object({ conversationId: z.string(), customerToken: z.string() });
export type ChatSession = z.infer<typeof ChatSession>;

/** sessionStorage, so a reload resumes the same conversation but a new tab or browser starts fresh. */
export function loadChatSession(): ChatSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = ChatSession.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveChatSession(session: ChatSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearChatSession(): void {
  sessionStorage.removeItem(KEY);
}
