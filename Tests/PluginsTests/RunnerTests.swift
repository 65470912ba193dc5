import Foundation
import XCTest
@testable import Plugins
import Workflow

/// Running one hook, with real subprocesses.
final class RunnerTests: PluginTestCase {
    func testExitStatusesMapToOutcomes() async throws {
        let runner = runner()
        let cases: [(String, HookOutcome, Bool)] = [
            ("exit 0", .succeeded, false),
            ("exit 75", .retryableFailure, true),
            ("exit 3", .failed(exitCode: 3), false),
        ]
        for (body, expected, retryable) in cases {
            let run = await runner.run(try shellPlugin("exits", body), event: event())
            XCTAssertEqual(run.outcome, expected, body)
            XCTAssertEqual(run.isRetryable, retryable, body)
            XCTAssertEqual(run.plugin, "exits")
            XCTAssertNil(run.signal)
            XCTAssertEqual(run.exitCode, body == "exit 0" ? 0 : body == "exit 75" ? 75 : 3)
        }
    }

    func testASignalThatEndsThePluginIsReported() async throws {
        let run = await runner().run(try shellPlugin("crash", "kill -USR1 $$"), event: event())
        XCTAssertEqual(run.outcome, .signalled(signal: SIGUSR1))
        XCTAssertEqual(run.signal, SIGUSR1)
        XCTAssertNil(run.exitCode)
        XCTAssertFalse(run.isRetryable)
    }

    func testTheEventArrivesOnStdinIntactAndStdinIsClosed() async throws {
        // `cat` ends only when stdin is closed; the trailing line keeps the event out of dataPatch.
        let plugin = try shellPlugin("echo", "cat; echo end")
        let event = event(data: ["priority": "high", "nested": ["list": [1, 2.5, true, nil]], "text": "ünïcødé ✓"],
                          with: ["channel": "billing"])
        let run = await runner().run(plugin, event: event)
        XCTAssertEqual(run.outcome, .succeeded)
        XCTAssertEqual(run.stdout, String(decoding: event.jsonLine, as: UTF8.self) + "end\n")
        let parsed = try JSONBody.parseObject(Array(run.stdout.split(separator: "\n")[0].utf8))
        XCTAssertEqual(JSONValue.object(parsed), event.jsonValue)
        XCTAssertEqual(parsed["deadline"], "2000-02-29T00:00:00.999Z")
        XCTAssertEqual(parsed["dispatch_id"], "812.0")
        XCTAssertEqual(parsed["attempt"], 1)
        XCTAssertEqual(parsed["version"], 3)
    }

    func testShellMetacharactersInRequestDataAreInert() async throws {
        let marker = "/tmp/pwned-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let payloads: [JSONValue] = [
            .string("$(touch \(marker))"), .string("`touch \(marker)`"), .string("'; touch \(marker); echo '"),
            .string("\"; touch \(marker); echo \""), .string("a\ntouch \(marker)\n"), .string("$HOME ${PATH} * ? [a] | & > < \\"),
        ]
        let data = Dictionary(uniqueKeysWithValues: payloads.enumerated().map { ("field\($0.offset)", $0.element) })
        // A plugin that handles its input the way shell plugins do: reads it, uses the ORCH_*
        // variables, prints them. Nothing of it is evaluated by the runner.
        let plugin = try shellPlugin("careless", """
            event=$(cat)
            printf '%s\\n' "$ORCH_INSTANCE" "$ORCH_TRANSITION"
            printf '%s\\n' "$event"
            echo done
            """)
        let event = HookEvent(workflow: "order", version: 1, instance: "$(touch \(marker))", transition: "`touch \(marker)`",
                              from: nil, to: "paid", data: data, with: ["cmd": .string("$(touch \(marker))")], dispatchID: "1.0",
                              attempt: 1)
        let run = await runner().run(plugin, event: event)
        XCTAssertEqual(run.outcome, .succeeded, run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "something was executed")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines[0], "$(touch \(marker))")
        XCTAssertEqual(lines[1], "`touch \(marker)`")
        XCTAssertEqual(try JSONBody.parseObject(Array(lines[2].utf8))["data"], .object(data))
    }

    func testTheEnvironmentHoldsNothingOfTheServersButPathHomeLangAndTheAllowList() async throws {
        try write("plugins/env/plugin.yaml", "command: [env]\nenv: [ALLOWED_VARIABLE, NOT_SET_ANYWHERE]\n")
        let plugin = try XCTUnwrap(PluginCatalog.discover(in: pluginsDirectory).plugin(named: "env"))
        let run = await runner().run(plugin, event: event())
        XCTAssertEqual(run.outcome, .succeeded, run.stderr)
        var variables: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            variables[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        XCTAssertNil(variables["ORCH_TEST_CANARY"])
        XCTAssertNil(variables["AWS_SECRET_ACCESS_KEY"])
        XCTAssertFalse(run.stdout.contains("secret"))
        XCTAssertEqual(variables, [
            "PATH": Self.serverEnvironment["PATH"]!, "HOME": Self.serverEnvironment["HOME"]!, "LANG": "C.UTF-8",
            "ALLOWED_VARIABLE": "passed-through",
            "ORCH_WORKFLOW": "order", "ORCH_INSTANCE": "o-17", "ORCH_TRANSITION": "pay", "ORCH_FROM": "created",
            "ORCH_TO": "paid", "ORCH_DISPATCH_ID": "812.0", "ORCH_ATTEMPT": "1",
        ])
    }

    func testTheWorkingDirectoryIsThePluginsOwn() async throws {
        try script("plugins/where/run", "pwd")
        try write("plugins/where/plugin.yaml", "command: [./run]\n")
        let catalog = PluginCatalog.discover(in: pluginsDirectory)
        let runner = runner()
        let manifest = await runner.run(try XCTUnwrap(catalog.plugin(named: "where")), event: event())
        XCTAssertEqual(manifest.stdout, pluginsDirectory + "/where\n")
        let executable = await runner.run(try shellPlugin("here", "pwd"), event: event())
        XCTAssertEqual(executable.stdout, pluginsDirectory + "\n")
    }

    func testTimeoutKillsTheWholeProcessGroup() async throws {
        // Children in the background and a foreground child: SIGTERM to the group ends them all.
        let plugin = try shellPlugin("hang", """
            sleep 1000 &
            echo "pid $!"
            sh -c 'sleep 1000 & echo "pid $!"; wait' &
            echo "pid $!"
            echo "pid $$"
            sleep 1000
            """)
        let run = await runner().run(plugin, event: event(), timeout: WorkflowDuration(milliseconds: 400))
        let pids = Self.printedPids(run.stdout)
        defer { pids.forEach { kill($0, SIGKILL) } }
        XCTAssertEqual(run.outcome, .timedOut)
        XCTAssertEqual(run.signal, SIGTERM)
        XCTAssertEqual(pids.count, 4, run.stdout)
        XCTAssertGreaterThanOrEqual(run.durationMillis, 400)
        XCTAssertLessThan(run.durationMillis, 3_000)
        let survivors = await Self.survivors(pids)
        XCTAssertEqual(survivors, [], "processes of the plugin's group survived")
    }

    func testProcessesThatIgnoreSigtermGetSigkillAfterTheGracePeriod() async throws {
        // Ignored signals stay ignored across exec, so the children ignore SIGTERM too.
        let plugin = try shellPlugin("stubborn", """
            trap '' TERM
            sleep 1000 &
            echo "pid $!"
            echo "pid $$"
            sleep 1000
            """)
        let run = await runner(grace: .milliseconds(300)).run(plugin, event: event(), timeout: WorkflowDuration(milliseconds: 300))
        let pids = Self.printedPids(run.stdout)
        defer { pids.forEach { kill($0, SIGKILL) } }
        XCTAssertEqual(run.outcome, .timedOut)
        XCTAssertEqual(run.signal, SIGKILL)
        XCTAssertEqual(pids.count, 2, run.stdout)
        XCTAssertGreaterThanOrEqual(run.durationMillis, 600)
        let survivors = await Self.survivors(pids)
        XCTAssertEqual(survivors, [])
    }

    func testWhatIsLeftOfTheGroupWhenThePluginExitsIsKilled() async throws {
        // The grandchild ignores SIGTERM and keeps stdout open; the plugin itself exits on
        // SIGTERM. The run must not wait for the grandchild, nor leave it behind.
        let timeoutCase = try shellPlugin("orphan", """
            sh -c 'trap "" TERM; exec sleep 1000' &
            echo "pid $!"
            sleep 1000
            """)
        let timedOut = await runner(grace: .seconds(5)).run(timeoutCase, event: event(), timeout: WorkflowDuration(milliseconds: 300))
        var pids = Self.printedPids(timedOut.stdout)
        XCTAssertEqual(timedOut.outcome, .timedOut)
        XCTAssertLessThan(timedOut.durationMillis, 3_000, "the run waited for a process that holds its stdout")
        // A plugin that exits normally, leaving a background child holding its pipes.
        let normal = await runner().run(try shellPlugin("daemonish", "sleep 1000 &\necho \"pid $!\"\nexit 0"), event: event())
        pids += Self.printedPids(normal.stdout)
        defer { pids.forEach { kill($0, SIGKILL) } }
        XCTAssertEqual(normal.outcome, .succeeded)
        XCTAssertLessThan(normal.durationMillis, 3_000)
        XCTAssertEqual(pids.count, 2)
        let survivors = await Self.survivors(pids)
        XCTAssertEqual(survivors, [])
    }

    func testCancellingTheCallerStopsTheGroup() async throws {
        let plugin = try shellPlugin("long", """
            sleep 1000 &
            echo "pid $!"
            echo "pid $$"
            sleep 1000
            """)
        let runner = runner()
        let event = event()
        let task = Task { await runner.run(plugin, event: event) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let run = await task.value
        let pids = Self.printedPids(run.stdout)
        defer { pids.forEach { kill($0, SIGKILL) } }
        XCTAssertEqual(run.outcome, .cancelled)
        XCTAssertEqual(run.signal, SIGTERM)
        XCTAssertEqual(pids.count, 2, run.stdout)
        XCTAssertLessThan(run.durationMillis, 2_000)
        let survivors = await Self.survivors(pids)
        XCTAssertEqual(survivors, [])
    }

    func testARunInAnAlreadyCancelledTaskDoesNotStart() async throws {
        let marker = root + "/started"
        let plugin = try shellPlugin("never", "touch '\(marker)'")
        let runner = runner()
        let event = event()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await runner.run(plugin, event: event)
        }
        let run = await task.value
        XCTAssertEqual(run.outcome, .cancelled)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testHugeOutputIsCappedAndTheRunEndsPromptly() async throws {
        let plugin = try shellPlugin("flood", "head -c 8000000 /dev/zero | tr '\\0' x\nhead -c 3000000 /dev/zero >&2\necho '{\"a\":1}'")
        let start = ContinuousClock.now
        let run = await runner().run(plugin, event: event())
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
        XCTAssertEqual(run.outcome, .succeeded)
        XCTAssertTrue(run.stdoutTruncated)
        XCTAssertTrue(run.stderrTruncated)
        XCTAssertEqual(run.stdout.utf8.count, 64 << 10)
        XCTAssertEqual(run.stderr.utf8.count, 64 << 10)
        XCTAssertEqual(run.stdoutBytesTotal, 8_000_000 + 8)
        XCTAssertEqual(run.stderrBytesTotal, 3_000_000)
        XCTAssertTrue(run.stdout.allSatisfy { $0 == "x" })
        // The last line was cut off with the rest: it cannot be a data patch.
        XCTAssertNil(run.dataPatch)
    }

    func testSmallCapsCutWholeCharacters() async throws {
        var settings = PluginRunSettings(stdoutBytesMax: 3, stderrBytesMax: 3)
        settings.gracePeriod = .milliseconds(500)
        let runner = PluginRunner(settings: settings, serverEnvironment: Self.serverEnvironment)
        let run = await runner.run(try shellPlugin("accents", "printf 'aaé€'\nprintf 'abcdef' >&2"), event: event())
        XCTAssertEqual(run.stdout, "aa")   // not "aa\u{FFFD}": the cap fell inside 'é'
        XCTAssertEqual(run.stderr, "abc")
        XCTAssertTrue(run.stdoutTruncated)
        XCTAssertEqual(run.stdoutBytesTotal, 7)
    }

    func testInvalidUTF8BecomesReplacementCharacters() async throws {
        let run = await runner().run(try shellPlugin("binary", "printf '\\377\\376ok\\n'\nprintf 'bad \\300 byte' >&2"), event: event())
        XCTAssertEqual(run.outcome, .succeeded)
        XCTAssertEqual(run.stdout, "\u{FFFD}\u{FFFD}ok\n")
        XCTAssertEqual(run.stderr, "bad \u{FFFD} byte")
    }

    func testALastLineJSONObjectBecomesTheDataPatch() async throws {
        let run = await runner().run(try shellPlugin("patch", """
            echo 'label printed'
            echo '  {"tracking": "1Z999", "weight": 2.5, "tags": ["a"]}  '
            echo
            echo '   '
            """), event: event())
        XCTAssertEqual(run.dataPatch, ["tracking": "1Z999", "weight": 2.5, "tags": ["a"]])
        XCTAssertEqual(run.stdout, "label printed\n")
    }

    func testOtherLastLinesAreNotADataPatch() async throws {
        let runner = runner()
        for body in ["echo '[1, 2]'", "echo '{\"a\": 1}'; echo done", "echo '{\"a\": 1'", "echo '\"text\"'", "true"] {
            let run = await runner.run(try shellPlugin("nopatch", body), event: event())
            XCTAssertNil(run.dataPatch, body)
        }
        let stays = await runner.run(try shellPlugin("nopatch", "echo '[1, 2]'"), event: event())
        XCTAssertEqual(stays.stdout, "[1, 2]\n")
        // Larger than the data patch cap: stays output.
        let big = "{\"blob\": \"" + String(repeating: "x", count: 17 << 10) + "\"}"
        let tooBig = await runner.run(try shellPlugin("nopatch", "echo '\(big)'"), event: event())
        XCTAssertNil(tooBig.dataPatch)
        XCTAssertEqual(tooBig.stdout, big + "\n")
    }

    func testAPluginThatDoesNotReadStdinStillRuns() async throws {
        // An event far larger than a pipe's buffer, and a plugin that exits without reading it.
        let run = await runner().run(try shellPlugin("deaf", "exit 0"),
                                     event: event(data: ["blob": .string(String(repeating: "y", count: 1 << 20))]))
        XCTAssertEqual(run.outcome, .succeeded)
    }

    func testAMissingOrNonExecutableProgramCouldNotStart() async throws {
        let runner = runner()
        let gone = try shellPlugin("gone", "exit 0")
        try FileManager.default.removeItem(atPath: gone.command[0])
        let missing = await runner.run(gone, event: event())
        guard case .couldNotStart(let reason) = missing.outcome else { return XCTFail("\(missing.outcome)") }
        XCTAssertTrue(reason.contains("does not exist"), reason)
        XCTAssertTrue(reason.contains(gone.command[0]), reason)

        let locked = try shellPlugin("locked", "exit 0")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: locked.command[0])
        let denied = await runner.run(locked, event: event())
        guard case .couldNotStart(let deniedReason) = denied.outcome else { return XCTFail("\(denied.outcome)") }
        XCTAssertTrue(deniedReason.contains("not executable"), deniedReason)

        let unknown = Plugin(name: "unknown", kind: .manifest, command: ["no-such-program-\(UUID().uuidString)"],
                             directory: pluginsDirectory, sourcePath: "test")
        let notFound = await runner.run(unknown, event: event())
        guard case .couldNotStart(let notFoundReason) = notFound.outcome else { return XCTFail("\(notFound.outcome)") }
        XCTAssertTrue(notFoundReason.contains("was not found in PATH"), notFoundReason)

        let badInterpreter = try write("plugins/interp", "#!/no/such/interpreter\n", mode: 0o755)
        let interp = Plugin(name: "interp", kind: .executable, command: [badInterpreter], directory: pluginsDirectory, sourcePath: "test")
        let noInterpreter = await runner.run(interp, event: event())
        guard case .couldNotStart(let interpreterReason) = noInterpreter.outcome else { return XCTFail("\(noInterpreter.outcome)") }
        XCTAssertTrue(interpreterReason.contains("#!"), interpreterReason)

        let homeless = Plugin(name: "homeless", kind: .executable, command: ["/bin/true"], directory: root + "/nowhere", sourcePath: "test")
        let noDirectory = await runner.run(homeless, event: event())
        guard case .couldNotStart(let directoryReason) = noDirectory.outcome else { return XCTFail("\(noDirectory.outcome)") }
        XCTAssertTrue(directoryReason.contains("working directory"), directoryReason)
    }

    func testTheTimeoutComesFromTheHookThenTheManifestThenTheDefault() {
        let runner = runner(timeoutDefault: WorkflowDuration(milliseconds: 7_000))
        var plugin = Plugin(name: "p", kind: .manifest, command: ["true"], directory: "/", sourcePath: "p")
        XCTAssertEqual(runner.timeout(for: plugin, hookTimeout: nil).milliseconds, 7_000)
        plugin.timeout = WorkflowDuration(milliseconds: 3_000)
        XCTAssertEqual(runner.timeout(for: plugin, hookTimeout: nil).milliseconds, 3_000)
        XCTAssertEqual(runner.timeout(for: plugin, hookTimeout: WorkflowDuration(milliseconds: 500)).milliseconds, 500)
    }
}
