import Engine
import Foundation
import Workflow

// `orchestrator-bench retention [--instances N] [--live N]`: the engine's memory per
// instance and per history entry (one replica), and a soak that starts and finishes N
// instances (default 1,000,000) of ten history entries each under a retention, purging as
// the leader's sweeper does, and samples the resident set size as it goes: with retention
// it levels off instead of growing with N.

func retentionBenchmark(_ arguments: [String]) throws {
    func value(_ flag: String, _ fallback: Int) -> Int {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count, let parsed = Int(arguments[index + 1]),
              parsed > 0 else { return fallback }
        return parsed
    }
    let total = value("--instances", 1_000_000)
    let live = value("--live", 100_000)
    print("retention: engine memory and a soak of \(total) instances (command: swift run -c release orchestrator-bench retention"
        + " --instances \(total) --live \(live))")

    // Ten states in a row: a start and nine transitions give ten history entries.
    var yaml = "workflow: soak\ninitial: s0\nretention: 60s\nstates:\n"
    for state in 0..<10 { yaml += "  s\(state): {\(state == 9 ? " final: true " : "")}\n" }
    yaml += "transitions:\n"
    for state in 1..<10 { yaml += "  t\(state): { from: s\(state - 1), to: s\(state) }\n" }
    guard let definition = WorkflowLoader.load(text: yaml, file: "soak.yaml").definition else {
        throw BenchmarkError.invalid("the soak workflow does not load")
    }

    var engine = EngineState()
    var index: UInt64 = 0
    var now: Int64 = 1_800_000_000_000
    func apply(_ command: Command) -> Outcome {
        index += 1
        now += 1
        return engine.apply(index: index, command: command.stamped(atMillis: now)).outcome
    }
    _ = apply(.registerWorkflow(RegisterWorkflow(definition: definition)))
    func run(_ id: String, steps: Int) {
        _ = apply(.startInstance(StartInstance(workflow: "soak", id: id)))
        for step in 1...steps { _ = apply(.transition(TransitionRequest(instance: id, name: "t\(step)"))) }
    }

    // 1. Memory per instance: `live` instances at s9 (ten entries each) against an empty engine.
    let before = MemoryUse.now().rssBytes
    let clock = ContinuousClock()
    let started = clock.now
    for number in 0..<live { run("m\(number)", steps: 9) }
    let elapsed = clock.now - started
    let after = MemoryUse.now().rssBytes
    let perInstance = Double(after - before) / Double(live)
    let snapshotBytes = engine.snapshot().count
    let applies = Double(live * 10)
    print(String(format: "memory: %.0f B per instance with 10 history entries (RSS after malloc_trim, %d instances, one replica); "
        + "snapshot %.0f B per instance", perInstance, live, Double(snapshotBytes) / Double(live)))
    print(String(format: "apply: %.2f µs per command (start or transition, history recorded)", seconds(elapsed) * 1e6 / applies))

    // 2. Soak: every instance runs to its final state; every 10,000 the sweeper's pass purges
    // what is past the 60 s retention (engine time moves 1 ms per entry, ~6,000 instances a minute).
    engine = EngineState()
    index = 0
    _ = apply(.registerWorkflow(RegisterWorkflow(definition: definition)))
    let base = MemoryUse.now().rssBytes
    var samples: [(Int, Int)] = []
    var purged = 0
    let soakStart = clock.now
    for number in 0..<total {
        run("i\(number)", steps: 9)
        if number % 10_000 == 9_999 {
            while true {
                let ids = engine.purgeCandidates(nowMillis: now, defaultRetentionMillis: nil, limit: PurgeInstances.idsMax)
                if ids.isEmpty { break }
                if case .instancesPurged(let result) = apply(.purgeInstances(PurgeInstances(ids: ids))) { purged += result.purged }
            }
        }
        if number % (total / 10) == total / 10 - 1 {
            let rss = MemoryUse.now().rssBytes - base
            samples.append((number + 1, rss))
            print(String(format: "  after %7d instances: %6d kept, %7d purged, RSS +%.1f MiB", number + 1, engine.instanceCount, purged,
                         Double(rss) / 1_048_576))
        }
    }
    let soakSeconds = seconds(clock.now - soakStart)
    let firstHalf = samples.prefix(samples.count / 2).map(\.1).max() ?? 0
    let secondHalf = samples.suffix(samples.count - samples.count / 2).map(\.1).max() ?? 0
    let verdict = secondHalf <= firstHalf + firstHalf / 4 ? "levels off" : "still growing"
    print(String(format: "soak: %d instances in %.0f s; RSS peak first half +%.1f MiB, second half +%.1f MiB", total, soakSeconds,
                 Double(firstHalf) / 1_048_576, Double(secondHalf) / 1_048_576) + " (\(verdict))")
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
