import XCTest
@testable import Engine
import Workflow

final class SnapshotTests: XCTestCase {
    private func busyHarness() -> Harness {
        var h = Harness()
        h.register(orderV2Definition)
        h.start("order", id: "o-1", version: 1, data: ["customer": .string("ada")], requestID: "s1")
        h.start("order", id: "o-2", requestID: "s2")
        h.start("cookbook", id: "demo")
        h.move("o-1", "pay", data: ["paid": .bool(true)], requestID: "t1")
        h.move("o-1", "ship")
        h.move("o-2", "cancel")
        h.move("demo", "third", requestID: "t-rejected")
        return h
    }

    func testSnapshotRestoreSnapshotIsIdentity() throws {
        let h = busyHarness()
        let bytes = h.state.snapshot()
        let restored = try EngineState(restoring: bytes)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.appliedIndex, h.state.appliedIndex)
        XCTAssertEqual(restored.clockMillis, h.state.clockMillis)
        XCTAssertEqual(restored.instance(id: "o-1"), h.state.instance(id: "o-1"))
        XCTAssertEqual(restored.history(of: "o-1"), h.state.history(of: "o-1"))
        XCTAssertEqual(restored.workflowSummaries(), h.state.workflowSummaries())
        XCTAssertEqual(restored.instances(limit: 100), h.state.instances(limit: 100))
        XCTAssertEqual(restored.outcome(forRequestID: "t-rejected")?.rejection?.code, "transition_not_allowed")
    }

    func testRestoredStateBehavesTheSame() throws {
        var a = busyHarness()
        var b = a
        b.state = try EngineState(restoring: a.state.snapshot())
        let moves: [(String, String, String?)] = [("o-1", "deliver", nil), ("o-1", "pay", "t1"), ("demo", "second", "x"), ("o-2", "pay", nil)]
        for (instance, name, requestID) in moves {
            XCTAssertEqual(a.move(instance, name, requestID: requestID), b.move(instance, name, requestID: requestID))
        }
        XCTAssertEqual(a.state.snapshot(), b.state.snapshot())
    }

    func testEmptyStateSnapshot() throws {
        let bytes = EngineState().snapshot()
        XCTAssertEqual(Array(bytes.prefix(5)), Array("OENG".utf8) + [4])
        XCTAssertEqual(try EngineState(restoring: bytes).snapshot(), bytes)
    }

    func testVersionOneToThreeSnapshotsStillRestore() throws {
        var h = Harness(workflows: [cookbookDefinition])
        h.start("cookbook", id: "demo")
        h.move("demo", "second")
        let current = h.state.snapshot()
        // Version 3 is version 4 without the (here empty) token section; version 2 is also
        // without the two (empty) trigger and timer sections; version 1 also without the two
        // (empty) dispatch sections.
        XCTAssertEqual(Array(current[(current.count - 13)..<(current.count - 8)]), [0, 0, 0, 0, 0], "no dispatches, triggers, timers or tokens")
        for (version, cut) in [(UInt8(3), 1), (2, 3), (1, 5)] {
            var old = Array(current[0..<(current.count - 8 - cut)])
            old[4] = version
            var checksum = FNV1a64()
            checksum.add(contentsOf: old)
            for shift in stride(from: 0, to: 64, by: 8) { old.append(UInt8(truncatingIfNeeded: checksum.value >> UInt64(shift))) }
            let restored = try EngineState(restoring: old)
            XCTAssertEqual(restored.snapshot(), current, "a version \(version) snapshot restores to the same state")
            XCTAssertEqual(restored.instance(id: "demo")?.state, "second")
        }
    }

    func testAVersionTwoSnapshotGetsTheTriggersAndTimersItsLogWouldHaveArmed() throws {
        var h = Harness(workflows: [orderDefinition])
        h.start("order", id: "o")
        h.move("o", "pay")
        h.move("o", "ship")
        let current = h.state.snapshot()
        let armed = try XCTUnwrap(h.state.timer(of: "o"))
        // Strip the trigger and timer sections: find them by re-encoding without them.
        var stripped = h.state
        stripped.triggers = [:]
        stripped.timers = [:]
        let bare = stripped.snapshot()
        var old = Array(bare[0..<(bare.count - 8 - 3)])
        old[4] = 2
        var checksum = FNV1a64()
        checksum.add(contentsOf: old)
        for shift in stride(from: 0, to: 64, by: 8) { old.append(UInt8(truncatingIfNeeded: checksum.value >> UInt64(shift))) }
        let restored = try EngineState(restoring: old)
        XCTAssertEqual(restored.timer(of: "o"), armed)
        XCTAssertEqual(restored.triggerStates, h.state.triggerStates)
        XCTAssertEqual(restored.snapshot(), current)
    }

    func testGarbageIsATypedError() {
        XCTAssertThrowsError(try EngineState(restoring: [])) { XCTAssertEqual($0 as? SnapshotError, .notASnapshot) }
        XCTAssertThrowsError(try EngineState(restoring: Array("hello, world!".utf8))) { XCTAssertEqual($0 as? SnapshotError, .notASnapshot) }
        var bytes = EngineState().snapshot()
        bytes[4] = 9
        XCTAssertThrowsError(try EngineState(restoring: bytes)) { XCTAssertEqual($0 as? SnapshotError, .unsupportedVersion(9)) }
    }

    func testAnyFlippedByteIsDetected() {
        let bytes = busyHarness().state.snapshot()
        for position in stride(from: 5, to: bytes.count, by: max(1, bytes.count / 300)) {
            var damaged = bytes
            damaged[position] ^= 0x20
            XCTAssertThrowsError(try EngineState(restoring: damaged), "byte \(position)")
        }
        XCTAssertThrowsError(try EngineState(restoring: Array(bytes.dropLast())))
    }

    /// Re-signs a modified body so that the checksum passes and the structural checks are what
    /// must catch it.
    private func resign(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(8))
        var checksum = FNV1a64()
        checksum.add(contentsOf: body)
        body += checksum.value.littleEndianBytes
        return body
    }

    func testInconsistentContentIsRejectedEvenWithAValidChecksum() {
        var generator = SeededGenerator(seed: testSeed(21))
        let bytes = busyHarness().state.snapshot()
        var rejected = 0
        for _ in 0..<300 {
            var damaged = bytes
            let position = Int.random(in: 5..<(bytes.count - 8), using: &generator)
            damaged[position] = UInt8.random(in: 0...255, using: &generator)
            do {
                let restored = try EngineState(restoring: resign(damaged))
                // Accepted mutations must still give a self-consistent state.
                XCTAssertEqual(try EngineState(restoring: restored.snapshot()).snapshot(), restored.snapshot())
            } catch {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    func testDanglingWorkflowReferenceIsInconsistent() throws {
        var h = Harness()
        h.start("cookbook", id: "c")
        var state = h.state
        state.workflows["cookbook"] = nil
        XCTAssertThrowsError(try EngineState(restoring: state.snapshot())) { error in
            guard case .inconsistent(let reason) = error as? SnapshotError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("missing workflow version"), reason)
        }
    }

    func testReplicatedEngineRestoreKeepsStateOnError() throws {
        let engine = ReplicatedEngine()
        let h = busyHarness()
        try engine.restore(h.state.snapshot())
        XCTAssertEqual(engine.instance(id: "o-1")?.state, "shipped")
        XCTAssertThrowsError(try engine.restore([1, 2, 3]))
        XCTAssertEqual(engine.instance(id: "o-1")?.state, "shipped")
        XCTAssertEqual(engine.snapshot().bytes, h.state.snapshot())
        XCTAssertEqual(engine.snapshot().appliedIndex, h.state.appliedIndex)
    }
}
