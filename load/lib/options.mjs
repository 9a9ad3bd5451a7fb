// The load test's command-line options: `--name value` or `--name=value`.

function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || m[1] === "no-doc") continue;
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}

export function loadOptions(argv) {
  const f = flags(argv);
  const num = (name, dflt) => (f[name] === undefined ? dflt : Number(f[name]));
  return {
    users: num("users", 24),
    /** Sessions of one user that submit the same code at once in a steady round. */
    group: num("group", 5),
    verifications: num("verifications", 10_000),
    /** Large collisions (30 sessions, one code) that are expected to lock the account. */
    storms: num("storms", 12),
    stormSize: num("storm-size", 30),
    /** Rounds of correct codes from every storm session while the account is locked. */
    holdRounds: num("hold-rounds", 16),
    timingSamples: num("timing-samples", 60),
    /** The steady phase stops here at the latest; storms and the timing phase follow. */
    maxSeconds: num("max-seconds", 170),
    resetEvery: num("reset-every", 40),
    writeDoc: !argv.includes("--no-doc"),
    /** The arguments as given, for the report's header. */
    args: argv.filter((x) => x !== "--no-doc"),
  };
}
