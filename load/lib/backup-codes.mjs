// Backup-code regeneration; the replaced codes become dead codes to try later.
import { PASSWORD } from "./client.mjs";

export async function regenerate(run, user) {
  const c = user.authed;
  const re = await c.post("/api/security/reauth", { password: PASSWORD }, "reauth");
  if (re.status !== 204) return run.error(`reauth: ${re.status} ${JSON.stringify(re.body)}`);
  const r = await c.post("/api/security/backup-codes", undefined, "regenerate backup codes");
  if (r.status !== 200) return run.error(`regenerate: ${r.status} ${JSON.stringify(r.body)}`);
  run.stats.regenerations += 1;
  user.deadCodes.push(...user.backupCodes.map((code) => ({ method: "backup_code", code, key: `${user.id}|backup|${code}` })));
  user.backupCodes = [...r.body.codes];
}
