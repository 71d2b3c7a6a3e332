// SPDX-License-Identifier: Apache-2.0
// Where the repository and the spoold binary are.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

// The binary under test: $SPOOLD_BIN, or <repo>/build/spoold.
export function spooldBin() {
  return process.env.SPOOLD_BIN || path.join(REPO_ROOT, "build", "spoold");
}
