import XCTest
@testable import Engine
import Workflow

final class CodecTests: XCTestCase {
    static let sampleCommands: [Command] = [
        .registerWorkflow(RegisterWorkflow(definition: orderDefinition, requestID: "reg-1", proposedAtMillis: 1)),
        .registerWorkflow(RegisterWorkflow(definition: cookbookDefinition, proposedAtMillis: -5)),
        .startInstance(StartInstance(workflow: "order", id: "o-1", proposedAtMillis: 1_700_000_000_000)),
        .startInstance(StartInstance(workflow: "order", version: 3, id: "o-2",
                                     data: ["n": .number(1.5), "list": .array([.bool(true), .null, .string("ü")]),
                                            "nested": .object(["a": .object([:])])],
                                     requestID: "r", proposedAtMillis: Int64.max)),
        .transition(TransitionRequest(instance: "o-1", name: "pay", proposedAtMillis: 7)),
        .transition(TransitionRequest(instance: "o-1", to: "paid", expect: "created", dataPatch: ["x": .null, "y": .number(-0.0)],
                                      requestID: "rid:1", proposedAtMillis: Int64.min)),
        .cronFire(CronFire(slots: [CronSlot(workflow: "order", trigger: "nightly", slotMillis: 1_700_000_000_000, missed: 3),
                                   CronSlot(workflow: "o", trigger: "t", slotMillis: -1)], proposedAtMillis: 9)),
        .cronFire(CronFire(slots: [], proposedAtMillis: 1)),
        .timerFire(TimerFire(timers: [TimerSlot(instance: "o-1", revision: 4), TimerSlot(instance: "x", revision: UInt64.max)],
                             proposedAtMillis: 10)),
        .purgeInstances(PurgeInstances(ids: ["o-1", "x"], defaultRetentionMillis: 604_800_000, proposedAtMillis: 11)),
        .purgeInstances(PurgeInstances(ids: [], proposedAtMillis: 12)),
    ]

    func testCommandsRoundTrip() throws {
        for command in CodecTests.sampleCommands {
            let bytes = command.encoded()
            XCTAssertEqual(bytes[0], Command.formatVersion)
            XCTAssertEqual(try Command.decode(bytes), command)
            XCTAssertEqual(try Command.decode(bytes).encoded(), bytes)
        }
    }

    func testEncodingIsIndependentOfDictionaryOrder() {
        var forward: [String: JSONValue] = [:]
        var backward: [String: JSONValue] = [:]
        let keys = (0..<50).map { "key\($0)" }
        for key in keys { forward[key] = .string(key) }
        for key in keys.reversed() { backward[key] = .string(key) }
        let a = Command.startInstance(StartInstance(workflow: "w", id: "i", data: forward))
        let b = Command.startInstance(StartInstance(workflow: "w", id: "i", data: backward))
        XCTAssertEqual(a.encoded(), b.encoded())
    }

    func testFingerprintIgnoresOnlyTheTimestamp() {
        let command = Command.transition(TransitionRequest(instance: "o", name: "pay", requestID: "r"))
        XCTAssertEqual(command.stamped(atMillis: 1).fingerprint, command.stamped(atMillis: 99).fingerprint)
        let other = Command.transition(TransitionRequest(instance: "o", name: "ship", requestID: "r"))
        XCTAssertNotEqual(command.fingerprint, other.fingerprint)
    }

    func testStampingEncodedBytesEqualsStampingTheCommand() throws {
        for command in CodecTests.sampleCommands {
            var bytes = command.encoded()
            XCTAssertTrue(Command.stamp(&bytes, atMillis: 1_234))
            XCTAssertEqual(bytes, command.stamped(atMillis: 1_234).encoded())
        }
        var garbage: [UInt8] = [9, 9, 9]
        XCTAssertFalse(Command.stamp(&garbage, atMillis: 1))
        XCTAssertEqual(garbage, [9, 9, 9])
    }

    func testUnknownVersionAndTagsAreTypedErrors() {
        var bytes = CodecTests.sampleCommands[4].encoded()
        bytes[0] = 3
        XCTAssertThrowsError(try Command.decode(bytes)) { error in
            XCTAssertEqual(error as? DecodeError, .unsupportedVersion(what: "command", version: 3, supported: 2))
        }
        bytes[0] = 2
        bytes[1] = 200
        XCTAssertThrowsError(try Command.decode(bytes)) { error in
            XCTAssertEqual(error as? DecodeError, .unknownTag(what: "command", tag: 200, offset: 1))
        }
        bytes[1] = 10
        XCTAssertThrowsError(try Command.decode(bytes)) { error in
            XCTAssertEqual(error as? DecodeError, .unknownTag(what: "command", tag: 10, offset: 1))
        }
    }

    func testTruncationAndTrailingBytesAreErrors() {
        for command in CodecTests.sampleCommands {
            let bytes = command.encoded()
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try Command.decode(Array(bytes[0..<length])), "length \(length)")
            }
            XCTAssertThrowsError(try Command.decode(bytes + [0]))
        }
    }

    func testInvalidUTF8AndNonFiniteNumbersAreErrors() {
        var bytes = Command.transition(TransitionRequest(instance: "abc", name: "p")).encoded()
        let position = bytes.firstIndex(of: UInt8(ascii: "a"))!
        bytes[position] = 0xff
        XCTAssertThrowsError(try Command.decode(bytes))

        var nan = Command.startInstance(StartInstance(workflow: "w", id: "i", data: ["n": .number(1)])).encoded()
        let numberTag = nan.count - 9
        XCTAssertEqual(nan[numberTag], 3)
        for (offset, byte) in Double.nan.bitPattern.littleEndianBytes.enumerated() { nan[numberTag + 1 + offset] = byte }
        XCTAssertThrowsError(try Command.decode(nan))
    }

    func testDeepJSONIsAnErrorNotACrash() {
        // Hand-built: an array nested far past the decode limit.
        var bytes: [UInt8] = [1, 2] + [UInt8](repeating: 0, count: 8) + [0] + [1, UInt8(ascii: "w"), 0, 1, UInt8(ascii: "i"), 1]
        bytes += [1, 1, UInt8(ascii: "k")]
        for _ in 0..<100_000 { bytes += [5, 1] }
        bytes += [0]
        XCTAssertThrowsError(try Command.decode(bytes))
    }

    func testHugeLengthsDoNotAllocate() {
        // A string length of 2^62 must fail, not try to allocate.
        var writer = ByteWriter()
        writer.writeByte(1); writer.writeByte(3); writer.writeFixed64(0); writer.writeByte(0)
        writer.writeVarint(1 << 62)
        XCTAssertThrowsError(try Command.decode(writer.bytes))
        writer.writeByte(0)
        var short = Array(writer.bytes.dropLast(10))
        short.append(contentsOf: [0xff, 0xff, 0xff, 0x0f])  // 2^28-1 bytes promised, 0 present
        XCTAssertThrowsError(try Command.decode(short)) { error in
            guard case .truncated = error as? DecodeError else { return XCTFail("\(error)") }
        }
    }

    func testOutcomesRoundTrip() throws {
        let outcomes: [Outcome] = [
            .noop,
            .alreadyApplied(index: 3, appliedIndex: 9),
            .workflowRegistered(WorkflowRegistered(name: "order", version: 2, hash: "abc", created: false, index: 4)),
            .instanceStarted(InstanceStarted(id: "o", workflow: "order", version: 1, state: "created", revision: 1, index: 5)),
            .transitioned(Transitioned(id: "o", transition: "pay", from: "created", to: "paid", revision: 2, index: 6)),
            .rejected(.malformedCommand(reason: "x")),
            .rejected(.invalidArgument(field: "id", reason: "y")),
            .rejected(.invalidDefinition(workflow: "w", reason: "z")),
            .rejected(.invalidData(instance: "i", reason: "big")),
            .rejected(.unknownWorkflow(name: "w", version: nil)),
            .rejected(.unknownWorkflow(name: "w", version: 7)),
            .rejected(.unknownWorkflow(name: "w", version: -3)),
            .rejected(.unknownInstance(id: "i")),
            .rejected(.unknownTransition(instance: "i", name: "t", allowed: ["a", "b"])),
            .rejected(.unknownState(instance: "i", state: "s", allowed: [])),
            .rejected(.instanceExists(id: "i")),
            .rejected(.instanceFinal(id: "i", state: "done")),
            .rejected(.transitionNotAllowed(instance: "i", state: "s", transition: "t", to: nil, allowed: ["a"])),
            .rejected(.transitionNotAllowed(instance: "i", state: "s", transition: nil, to: "x", allowed: [])),
            .rejected(.ambiguousTransition(instance: "i", state: "s", to: "x", candidates: ["a", "b"])),
            .rejected(.expectationFailed(instance: "i", expected: "a", actual: "b")),
            .rejected(.requestIDConflict(requestID: "r")),
            .rejected(.limitExceeded(limit: "instancesMax", max: 1_000_000)),
            .cronFired(CronFired(results: [
                CronFired.SlotResult(workflow: "w", trigger: "t", slotMillis: 60_000, status: .fired(started: "w.t.x", moved: 1, notMoved: 2)),
                CronFired.SlotResult(workflow: "w", trigger: "t", slotMillis: -1, status: .fired(started: nil, moved: 0, notMoved: 0)),
                CronFired.SlotResult(workflow: "w", trigger: "u", slotMillis: 0, status: .skipped(reason: "busy")),
                CronFired.SlotResult(workflow: "w", trigger: "v", slotMillis: 5, status: .ignored(reason: "old")),
            ], index: 11)),
            .timerFired(TimerFired(results: [
                TimerFired.TimerResult(instance: "i", revision: 3, status: .fired(transition: "escalate", from: "shipped", to: "escalated")),
                TimerFired.TimerResult(instance: "j", revision: 1, status: .ignored(reason: "moved on")),
            ], index: 12)),
            .instancesPurged(InstancesPurged(purged: 998, kept: 2, index: 13)),
        ]
        for outcome in outcomes {
            XCTAssertEqual(try Outcome.decode(outcome.encoded()), outcome)
        }
        // Every rejection code is distinct and snake_case.
        let codes = outcomes.compactMap(\.rejection?.code)
        XCTAssertEqual(Set(codes).count, 15)
        for code in codes { XCTAssertTrue(code.allSatisfy { $0.isLowercase || $0 == "_" }, code) }
        XCTAssertThrowsError(try Outcome.decode([1, 99]))
        XCTAssertThrowsError(try Outcome.decode([]))
    }

    func testRejectionMessagesSayWhatIsAllowed() {
        let rejection = Rejection.transitionNotAllowed(instance: "o-17", state: "created", transition: "ship", to: nil,
                                                       allowed: ["pay", "cancel"])
        XCTAssertEqual(rejection.message, "instance 'o-17' is in state 'created': transition 'ship' is not allowed from there (allowed: pay, cancel)")
        XCTAssertEqual(Rejection.expectationFailed(instance: "o", expected: "a", actual: "b").message,
                       "instance 'o' is in state 'b', not the expected 'a'")
    }

    func testDefinitionCanonicalEncodingRoundTripsAndIsDeterministic() throws {
        for definition in [orderDefinition, cookbookDefinition, orderV2Definition] {
            let bytes = try CanonicalCoder.encode(definition)
            let decoded = try CanonicalCoder.decode(WorkflowDefinition.self, from: bytes)
            XCTAssertEqual(decoded, definition)
            XCTAssertEqual(decoded.contentHash, definition.contentHash)
            XCTAssertEqual(decoded.transitions(from: "shipped").map(\.name), definition.transitions(from: "shipped").map(\.name))
            XCTAssertEqual(try CanonicalCoder.encode(decoded), bytes)
        }
        // The same definition loaded again (fresh dictionaries) encodes identically.
        XCTAssertEqual(try CanonicalCoder.encode(load(orderYAML)), try CanonicalCoder.encode(orderDefinition))
    }

    func testCanonicalDecoderRejectsGarbageWithErrors() throws {
        let bytes = try CanonicalCoder.encode(orderDefinition)
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: []))
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: [2] + bytes.dropFirst()))
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: Array(bytes.dropLast())))
        // A valid encoding of the wrong shape is a DecodingError, not a crash.
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: CanonicalCoder.encode(["a": 1])))
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: CanonicalCoder.encode([1, 2, 3])))
        var deep: [UInt8] = [1]
        for _ in 0..<10_000 { deep += [7, 1] }
        XCTAssertThrowsError(try CanonicalCoder.decode(WorkflowDefinition.self, from: deep))
    }

    func testMutatedRegisterCommandsNeverCrash() {
        var generator = SeededGenerator(seed: testSeed(11))
        let original = Command.registerWorkflow(RegisterWorkflow(definition: orderDefinition)).encoded()
        var state = EngineState()
        for round in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? Command.decode(bytes)
            _ = state.apply(index: UInt64(round + 1), bytes: bytes)
        }
    }
}

extension UInt64 {
    var littleEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> UInt64($0 * 8)) } }
}
