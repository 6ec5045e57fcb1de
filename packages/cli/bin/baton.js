#!/usr/bin/env node
// The `baton` command. Baton's sources are TypeScript run through tsx, so there is no build step for
// the server or the CLI; only the web apps are bundled (by Vite).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
