import type { D1Migration } from "@cloudflare/vitest-plugin";

// The test-only binding vitest.config.ts adds to the Worker's own (src/worker-configuration.d.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
