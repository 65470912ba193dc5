import Foundation
@_spi(Benchmarks) import Workflow

// `orchestrator-bench workflow [--runs N]`: parse+validate time for a generated
// 5,000-state / 20,000-transition workflow, and for 1,000 small workflow files in a temp
// directory (removed afterwards). Prints the median of N runs (default 7) and, for the large
// workflow, where the time goes.

func workflowBenchmark(_ arguments: [String]) throws {
    var runs = 7
    if let index = arguments.firstIndex(of: "--runs"), index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 {
        runs = value
    }
    let clock = ContinuousClock()
    func median(_ durations: [Duration]) -> Duration { durations.sorted()[durations.count / 2] }
    // CPU time of this thread: on a shared, loaded machine it says more than wall time.
    func cpuTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }
    func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f ms", Double(seconds) * 1_000 + Double(attoseconds) / 1e15)
    }

    // 1. One large workflow.
    let large = generateLargeWorkflow(states: 5_000, transitions: 20_000)
    var limits = WorkflowLimits()
    let raised = large.utf8.count > limits.documentBytesMax
    limits.documentBytesMax = max(limits.documentBytesMax, large.utf8.count)
    print("workflow: \(runs) runs, median")
    print("large workflow: 5,000 states, 20,000 transitions, \(large.utf8.count) bytes" + (raised ? " (documentBytesMax raised to fit)" : ""))
    var durations: [Duration] = []
    var cpuDurations: [Duration] = []
    for _ in 0..<runs {
        let start = clock.now
        let cpuStart = cpuTime()
        let result = WorkflowLoader.load(text: large, file: "large.yaml", limits: limits)
        cpuDurations.append(cpuTime() - cpuStart)
        durations.append(clock.now - start)
        guard let definition = result.definition, definition.transitions.count == 20_000 else {
            throw BenchmarkError.invalid(result.diagnostics.prefix(5).map(\.description).joined(separator: "\n"))
        }
    }
    print("  parse+validate: \(milliseconds(median(durations))) wall, \(milliseconds(median(cpuDurations))) CPU")
    var phaseRuns: [String: [Duration]] = [:]
    var phaseOrder: [String] = []
    for _ in 0..<runs {
        for (phase, duration) in WorkflowLoader.phaseDurations(text: large, limits: limits, now: cpuTime) {
            if phaseRuns[phase] == nil { phaseOrder.append(phase) }
            phaseRuns[phase, default: []].append(duration)
        }
    }
    for phase in phaseOrder { print("    \(phase): \(milliseconds(median(phaseRuns[phase]!))) CPU") }

    // 2. Many small files, loaded the way `orchestrator validate DIR` does.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for index in 0..<1_000 {
        try smallWorkflow(index).write(to: directory.appendingPathComponent(String(format: "w%04d.yaml", index)), atomically: false, encoding: .utf8)
    }
    durations = []
    cpuDurations = []
    for _ in 0..<runs {
        let start = clock.now
        let cpuStart = cpuTime()
        let set = WorkflowLoader.loadFiles(at: [directory.path], pluginNames: ["notify", "task"])
        cpuDurations.append(cpuTime() - cpuStart)
        durations.append(clock.now - start)
        guard set.errorCount == 0, set.workflows.count == 1_000 else {
            throw BenchmarkError.invalid(set.diagnostics.prefix(5).map(\.description).joined(separator: "\n"))
        }
    }
    let total = median(durations)
    let cpuTotal = median(cpuDurations)
    print("1,000 small files (read from a temp directory): \(milliseconds(total)) wall (\(milliseconds(total / 1_000)) per file), "
        + "\(milliseconds(cpuTotal)) CPU")
}

enum BenchmarkError: Error, CustomStringConvertible {
    case invalid(String)
    var description: String {
        switch self {
        case .invalid(let detail): return "generated workflow did not validate:\n\(detail)"
        }
    }
}

/// A connected workflow: a chain through the first 4,900 states (so every state is
/// reachable), the remaining transitions spread deterministically, 100 final states, every
/// 10th transition with a hook, every 50th state with a timeout, and a few triggers.
func generateLargeWorkflow(states stateCount: Int, transitions transitionCount: Int) -> String {
    let finals = 100
    let open = stateCount - finals
    var text = "workflow: large\ndescription: generated for orchestrator-bench\ninitial: s0\ndata: { size: \(stateCount) }\nstates:\n"
    for index in 0..<stateCount {
        if index >= open {
            text += "  s\(index): { final: true }\n"
        } else if index % 50 == 0 {
            text += "  s\(index): { timeout: { after: 1h30m, transition: t\(index) } }\n"
        } else {
            text += "  s\(index): {}\n"
        }
    }
    text += "transitions:\n"
    for index in 0..<transitionCount {
        let from: String
        let to: Int
        if index < stateCount - 1 {
            // Chain s0 → s1 → …; the open states also reach the finals.
            from = "s\(min(index, open - 1))"
            to = index + 1
        } else {
            from = index % 7 == 0 ? "[s\(index % open), s\((index * 13) % open)]" : "s\((index * 31) % open)"
            to = (index * 17) % (stateCount - 1) + 1
        }
        if index % 10 == 0 {
            text += "  t\(index): { from: \(from), to: s\(to), hooks: [{ plugin: notify, timeout: 30s, retry: { attempts: 3 } }] }\n"
        } else {
            text += "  t\(index): { from: \(from), to: s\(to) }\n"
        }
    }
    text += "triggers:\n"
    text += "  - { name: nightly, cron: \"0 3 * * *\", timezone: Europe/Berlin, transition: t1, where: { state: s1 } }\n"
    text += "  - { name: hourly, cron: \"@hourly\", start: {}, concurrency: forbid }\n"
    return text
}

/// A small realistic workflow (like workflows/order.yaml), named uniquely.
func smallWorkflow(_ index: Int) -> String {
    """
    workflow: order-\(index)
    description: Order fulfilment \(index)
    initial: created
    data: { priority: normal }
    states:
      created: {}
      paid:
        on_enter: [{ plugin: notify, with: { channel: billing } }]
      shipped:
        timeout: { after: 72h, transition: escalate }
      delivered: { final: true }
      escalated: {}
      cancelled: { final: true }
    transitions:
      pay: { from: created, to: paid }
      ship:
        from: paid
        to: shipped
        hooks:
          - plugin: task
            timeout: 30s
            retry: { attempts: 5, backoff: 2s, max_backoff: 1m }
            on_failure: escalate
      deliver: { from: [shipped, escalated], to: delivered }
      escalate: { from: shipped, to: escalated }
      cancel: { from: [created, paid, escalated], to: cancelled }
    triggers:
      - name: cleanup
        cron: "0 3 * * *"
        timezone: Europe/Berlin
        transition: cancel
        where: { state: created }

    """
}
