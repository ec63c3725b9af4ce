// prepack of each published package: the repository's LICENSE goes into the tarball.
import { copyFileSync } from 'node:fs';
copyFileSync(new URL('../LICENSE', import.meta.url), 'LICENSE');
