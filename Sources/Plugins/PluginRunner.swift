import Foundation
import Subprocess
import Workflow
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one hook: one plugin process (and whatever it forks) for one event, within the
/// limits of `PluginRunSettings`. It never throws and never retries; every way a run can
/// end is a `HookOutcome`.
///
/// The contract a plugin sees (`docs/plugins.md` says it for plugin authors):
/// 1. argv is `Plugin.command`, from the manifest only; no shell is involved anywhere, so
///    nothing in the event is ever interpreted.
/// 2. The environment holds only `PATH`, `HOME`, `LANG` and the manifest's `env` names, when
///    the server has them, plus `ORCH_WORKFLOW`, `ORCH_INSTANCE`, `ORCH_TRANSITION`,
///    `ORCH_FROM`, `ORCH_TO`, `ORCH_DISPATCH_ID` and `ORCH_ATTEMPT`.
/// 3. The working directory is `Plugin.directory`.
/// 4. stdin holds the event (`HookEvent.jsonLine`) and is then closed.
/// 5. It runs in a new session, so it leads its own process group. At the timeout (or when
///    the calling task is cancelled) the whole group gets SIGTERM, then SIGKILL after
///    `gracePeriod`. When the plugin's own process exits, anything left in its group is
///    killed with SIGKILL.
/// 6. stdout and stderr are read as they come, each kept up to its cap; the rest is read
///    and discarded, so output never blocks the plugin or costs more than the caps.
///
/// ```swift
/// let runner = PluginRunner()            // the server's own environment
/// let run = await runner.run(plugin, event: event, timeout: hook.timeout)
/// run.outcome                            // .succeeded, .retryableFailure, .timedOut, …
/// ```
///
/// Creating a runner makes the server process ignore SIGPIPE (a plugin that exits without
/// reading its stdin must not kill the server); plugins start with default signal handling.
public struct PluginRunner: Sendable {
    /// The limits of every run.
    public var settings: PluginRunSettings
    /// The server's environment, from which `PATH`, `HOME`, `LANG` and allow-listed variables
    /// are taken. Injected so that tests can control it.
    public var serverEnvironment: [String: String]

    /// A runner with `settings`, taking variables from `serverEnvironment` (by default this
    /// process's environment).
    public init(settings: PluginRunSettings = PluginRunSettings(),
                serverEnvironment: [String: String] = ProcessInfo.processInfo.environment) {
        _ = Self.brokenPipesIgnored
        self.settings = settings
        self.serverEnvironment = serverEnvironment
    }

    /// The timeout of a run: the hook's, else the manifest's, else `settings.timeoutDefault`.
    public func timeout(for plugin: Plugin, hookTimeout: WorkflowDuration?) -> WorkflowDuration {
        hookTimeout ?? plugin.timeout ?? settings.timeoutDefault
    }

    /// The environment `plugin` gets for `event`: nothing else of the server's.
    public func environment(for plugin: Plugin, event: HookEvent) -> [String: String] {
        PluginEnvironment.variables(for: plugin, event: event, server: serverEnvironment)
    }

    /// Runs `plugin` once for `event` and returns when its process group is gone.
    ///
    /// - Parameter timeout: the hook's own timeout, if it has one (see `timeout(for:hookTimeout:)`).
    /// - Returns: the result; `.cancelled` when the calling task was cancelled before the
    ///   plugin exited by itself.
    public func run(_ plugin: Plugin, event: HookEvent, timeout hookTimeout: WorkflowDuration? = nil) async -> HookRun {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsedMillis() -> Int64 {
            let elapsed = (clock.now - start).components
            return elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000
        }
        func notStarted(_ reason: String) -> HookRun {
            HookRun(plugin: plugin.name, outcome: .couldNotStart(reason: reason), durationMillis: elapsedMillis())
        }

        guard !Task.isCancelled else {
            return HookRun(plugin: plugin.name, outcome: .cancelled, durationMillis: 0)
        }
        guard let program = plugin.command.first, !program.isEmpty else {
            return notStarted("plugin '\(plugin.name)' has no command")
        }
        guard PluginFiles.type(of: plugin.directory) == .directory else {
            return notStarted("its working directory '\(plugin.directory)' does not exist")
        }
        let environment = environment(for: plugin, event: event)
        let executable: String
        switch PluginEnvironment.locate(program, directory: plugin.directory, path: environment["PATH"]) {
        case .success(let path): executable = path
        case .failure(let notFound): return notStarted(notFound.reason)
        }

        var options = PlatformOptions()
        options.createSession = true
        // Used by swift-subprocess when the calling task is cancelled: SIGTERM to the group,
        // then (its implicit last step) SIGKILL to the group after the grace period.
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: settings.gracePeriod)]
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment {
            if let key = Environment.Key(rawValue: name) { variables[key] = value }
        }
        let limits = Limits(timeout: timeout(for: plugin, hookTimeout: hookTimeout).duration, grace: settings.gracePeriod,
                            stdoutBytesMax: settings.stdoutBytesMax, stderrBytesMax: settings.stderrBytesMax)
        let supervision = RunSupervision()
        let input = event.jsonLine

        let result: ExecutionResult<(CapturedOutput, CapturedOutput), SequenceOutput, SequenceOutput>
        do {
            result = try await withTaskCancellationHandler {
                try await Subprocess.run(
                    .path(.init(executable)),
                    arguments: Arguments(Array(plugin.command.dropFirst())),
                    environment: .custom(variables),
                    workingDirectory: .init(plugin.directory),
                    platformOptions: options,
                    input: .inputWriter,
                    output: .sequence,
                    error: .sequence
                ) { execution in
                    await Self.supervise(execution, input: input, limits: limits, supervision: supervision)
                }
            } onCancel: {
                _ = supervision.requestStop(.cancelled)
            }
        } catch {
            return notStarted("could not run '\(executable)': \(error)"
                              + (PluginFiles.startsWithInterpreterLine(executable) ? " (check its #! line)" : ""))
        }

        let (stdout, stderr) = result.closureResult
        let (stdoutText, dataPatch) = DataPatch.split(stdout, bytesMax: settings.dataPatchBytesMax)
        var exitCode: Int32?
        var signal: Int32?
        switch result.terminationStatus {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = number
        }
        let outcome: HookOutcome
        switch (supervision.stop, exitCode, signal) {
        case (.timedOut?, _, _): outcome = .timedOut
        case (.cancelled?, _, _): outcome = .cancelled
        case (nil, 0?, _): outcome = .succeeded
        case (nil, HookOutcome.retryableExitCode?, _): outcome = .retryableFailure
        case (nil, let code?, _): outcome = .failed(exitCode: code)
        case (nil, nil, let number): outcome = .signalled(signal: number ?? 0)
        }
        return HookRun(plugin: plugin.name, outcome: outcome, exitCode: exitCode, signal: signal,
                       durationMillis: elapsedMillis(), stdout: stdoutText, stderr: stderr.text,
                       stdoutTruncated: stdout.truncated, stderrTruncated: stderr.truncated,
                       stdoutBytesTotal: stdout.bytesTotal, stderrBytesTotal: stderr.bytesTotal, dataPatch: dataPatch)
    }

    /// The numbers `supervise` needs, in one Sendable value.
    struct Limits: Sendable {
        var timeout: Duration
        var grace: Duration
        var stdoutBytesMax: Int
        var stderrBytesMax: Int
    }

    private enum Part: Sendable {
        case stdout(CapturedOutput)
        case stderr(CapturedOutput)
        case done
    }

    /// Feeds stdin, drains stdout and stderr, enforces the timeout, and returns once the
    /// plugin's own process has exited and the rest of its group has been killed.
    private static func supervise(_ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>, input: [UInt8],
                                  limits: Limits, supervision: RunSupervision) async -> (CapturedOutput, CapturedOutput) {
        let group = ProcessGroup(id: execution.processIdentifier.value)
        let writer = execution.standardInputWriter
        let stdoutStream = execution.standardOutput
        let stderrStream = execution.standardError
        // An unstructured task, so that the caller's cancellation does not cut the reads
        // short: on cancellation swift-subprocess stops the group (the teardown sequence),
        // and this task still waits for the group to be gone before the run returns.
        return await Task {
            await withTaskGroup(of: Part.self) { tasks in
                tasks.addTask {
                    // The plugin may exit without reading: a failed or short write is not an error.
                    _ = try? await writer.write(input)
                    try? await writer.finish()
                    return .done
                }
                tasks.addTask { .stdout(await CapturedOutput.read(stdoutStream, bytesMax: limits.stdoutBytesMax)) }
                tasks.addTask { .stderr(await CapturedOutput.read(stderrStream, bytesMax: limits.stderrBytesMax)) }
                tasks.addTask {
                    await Self.enforceTimeout(on: group, limits: limits, supervision: supervision)
                    return .done
                }
                var stdout: CapturedOutput?
                var stderr: CapturedOutput?
                while let part = await tasks.next() {
                    switch part {
                    case .stdout(let captured): stdout = captured
                    case .stderr(let captured): stderr = captured
                    case .done: continue
                    }
                    guard let _ = stdout, let _ = stderr else { continue }
                    // Both outputs ended: at the plugin's exit (swift-subprocess ends the reads
                    // then, even if a grandchild holds the pipes), or earlier if it closed them.
                    await group.waitForLeaderExit()
                    supervision.markExited()
                    group.send(SIGKILL)
                    tasks.cancelAll()
                }
                return (stdout ?? CapturedOutput(), stderr ?? CapturedOutput())
            }
        }.value
    }

    /// Sleeps until the timeout, then SIGTERM to the group, the grace period, SIGKILL to the
    /// group. Cancelled (and so silent) once the run is over.
    private static func enforceTimeout(on group: ProcessGroup, limits: Limits, supervision: RunSupervision) async {
        do { try await Task.sleep(for: limits.timeout) } catch { return }
        guard supervision.requestStop(.timedOut) else { return }
        group.send(SIGTERM)
        do { try await Task.sleep(for: limits.grace) } catch { return }
        group.send(SIGKILL)
    }

    /// Ignores SIGPIPE in this process once: writing the event to a plugin that has already
    /// exited must fail with EPIPE, not kill the server.
    private static let brokenPipesIgnored: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}
