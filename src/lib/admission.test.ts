import { describe, expect, it } from "vitest";
import { Admission } from "./admission";

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: (value: string) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    task: () => {
      log.push(`start ${name}`);
      return done;
    },
    finish: () => finish(name),
    fail: (err: Error) => fail(err),
  };
}

/** Lets every queued promise and timer run (the queue hands a freed slot over through a timer). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe("Admission", () => {
  it("runs at most `limit` tasks at once; the others wait without starting", async () => {
    const queue = new Admission();
    const log: string[] = [];
    const gates = ["a", "b", "c", "d"].map((n) => gate(log, n));
    const runs = gates.map((g) => queue.run(2, g.task));
    await settle();
    expect(log).toEqual(["start a", "start b"]);
    expect(queue.load).toEqual({ running: 2, waiting: 2 });
    gates[0]?.finish();
    await settle();
    expect(log).toEqual(["start a", "start b", "start c"]);
    expect(queue.load).toEqual({ running: 2, waiting: 1 });
    for (const g of gates) g.finish();
    expect(await Promise.all(runs)).toEqual(["a", "b", "c", "d"]);
    expect(queue.load).toEqual({ running: 0, waiting: 0 });
  });

  it("admits waiting tasks in arrival order, whichever running task ends first", async () => {
    const queue = new Admission();
    const log: string[] = [];
    const gates = ["a", "b", "c", "d", "e"].map((n) => gate(log, n));
    const runs = gates.map((g) => queue.run(1, g.task));
    await settle();
    expect(log).toEqual(["start a"]);
    // Finishing a later task early changes nothing: it has not started.
    gates[3]?.finish();
    await settle();
    expect(log).toEqual(["start a"]);
    for (const i of [0, 1, 2]) {
      gates[i]?.finish();
      await settle();
    }
    expect(log).toEqual(["start a", "start b", "start c", "start d", "start e"]);
    gates[4]?.finish();
    expect(await Promise.all(runs)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("a task that throws releases its slot and its caller gets the error", async () => {
    const queue = new Admission();
    const log: string[] = [];
    const [a, b] = [gate(log, "a"), gate(log, "b")];
    const first = queue.run(1, a.task);
    const second = queue.run(1, b.task);
    const thrown = queue.run(1, () => {
      throw new Error("synchronous failure");
    });
    a.fail(new Error("hash failed"));
    await expect(first).rejects.toThrow("hash failed");
    await settle();
    expect(log).toEqual(["start a", "start b"]);
    b.finish();
    await expect(second).resolves.toBe("b");
    await expect(thrown).rejects.toThrow("synchronous failure");
    expect(queue.load).toEqual({ running: 0, waiting: 0 });
    await expect(queue.run(1, async () => "after")).resolves.toBe("after");
  });

  it("treats a missing or nonsensical limit as one", async () => {
    const queue = new Admission();
    const log: string[] = [];
    const gates = ["a", "b"].map((n) => gate(log, n));
    const runs = gates.map((g) => queue.run(Number.NaN, g.task));
    await settle();
    expect(log).toEqual(["start a"]);
    for (const g of gates) g.finish();
    await Promise.all(runs);
    const zero = ["c", "d"].map((n) => gate(log, n));
    const zeroRuns = zero.map((g) => queue.run(0, g.task));
    await settle();
    expect(log).toEqual(["start a", "start b", "start c"]);
    for (const g of zero) g.finish();
    await Promise.all(zeroRuns);
  });
});
