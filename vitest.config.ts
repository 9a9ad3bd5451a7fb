import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Cheap hashing keeps the suite fast; test/passwords.test.ts runs the
        // production cost once. These override wrangler.toml's [vars].
        bindings: {
          PASSWORD_ITERATIONS: "1000",
          CODE_HASH_ITERATIONS: "1000",
          ENCRYPTION_KEYS: "test2:dGVzdC1rZXktdHdvLXRoaXJ0eS10d28tYnl0ZXMhISE=,test1:dGVzdC1rZXktb25lLXRoaXJ0eS10d28tYnl0ZXMhISE=",
          // Operator recovery is on in tests (a token that meets src/ops/operator-token.ts's rule);
          // test/ops.security.test.ts also runs the app without it and with a weak one.
          OPS_TOKEN: "test-ops-token-0123456789abcdefghijklmnopqrstuv",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
        // wrangler.toml's password-reset queue, consumed by the Worker as deployed, but each
        // message is handed over as soon as it is sent rather than after a second of batching:
        // tests wait for the email as a condition (test/support/mailbox.ts), and a second per
        // reset would only make the suite slower.
        queueConsumers: { "edge-2fa-password-resets": { maxBatchTimeout: 0 } },
      },
    }),
  ],
  // As in wrangler.toml's [alias]: the OpenAPI extension gets the part of zod the service uses (src/http/zod.ts).
  resolve: { alias: [{ find: /^zod$/, replacement: new URL("./src/http/zod.ts", import.meta.url).pathname }] },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
}));
