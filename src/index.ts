import { redact } from './core/db/redact.js';
import { installInterruptHandler } from './core/interrupt.js';
import { run } from './main.js';

// A cancelled workflow run sends SIGINT, then SIGTERM: stop what runs on the server first.
installInterruptHandler({ write: (text) => process.stderr.write(redact(text)) });
await run();
