import { useEffect, useState } from 'react';
import type { BatonStream, ConnectionState } from './stream.ts';

export function useConnectionState(stream: BatonStream): ConnectionState {
  const [state, setState] = useState<ConnectionState>(stream.connectionState);
  useEffect(() => {
    setState(stream.connectionState);
    return stream.listen({ state: setState });
  }, [stream]);
  return state;
}
