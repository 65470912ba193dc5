import XCTest
@testable import Engine
import Workflow

/// Retention in apply: a purge removes exactly the finished instances past their retention
/// (the workflow's, else the cluster default in the entry), with their histories, and leaves
/// listings, counts and snapshots as if they had never been.
final class RetentionTests: XCTestCase {
    static let jobsYAML = """
        workflow: jobs
        initial: queued
        retention: 1h
        states:
          queued: {}
          done:
            final: true
          failed: { final: true }
        transitions:
          finish: { from: queued, to: done }
          fail: { from: queued, to: failed }
        """
    let jobs = load(RetentionTests.jobsYAML)
    let hour: Int64 = 3_600_000

    private func purge(_ h: inout Harness, _ ids: [String], defaultRetention: Int64? = nil) -> InstancesPurged? {
        guard case .instancesPurged(let purged) = h.apply(.purgeInstances(PurgeInstances(ids: ids, defaultRetentionMillis: defaultRetention)))
        else { return nil }
        return purged
    }

    func testOnlyFinishedInstancesPastTheirRetentionArePurged() throws {
        var h = Harness(workflows: [jobs, cookbookDefinition])
        for id in ["a", "b", "c", "d"] { h.start("jobs", id: id) }
        h.move("a", "finish")
        h.move("b", "fail")
        h.nowMillis += hour / 2
        h.move("c", "finish")                        // finishes half an hour later
        h.start("cookbook", id: "ring")              // never final
        h.nowMillis += hour / 2                      // a's and b's hour has passed, c's not

        let now = h.nowMillis + h.stepMillis
        XCTAssertEqual(h.state.purgeCandidates(nowMillis: now, defaultRetentionMillis: nil, limit: 10), ["a", "b"])
        XCTAssertEqual(purge(&h, ["a", "b", "c", "d", "ring", "nope"]), InstancesPurged(purged: 2, kept: 4, index: h.index))
        XCTAssertNil(h.state.instance(id: "a"))
        XCTAssertNil(h.state.history(of: "b"))
        XCTAssertNotNil(h.state.instance(id: "c"), "not past its retention yet")
        XCTAssertNotNil(h.state.instance(id: "d"), "not finished")
        XCTAssertEqual(h.state.instances(limit: 100).instances.map(\.id), ["c", "d", "ring"])
        XCTAssertEqual(h.state.instanceCounts()["jobs"], ["done": 1, "queued": 1])
        XCTAssertEqual(h.state.instanceCount, 3)
        XCTAssertEqual(h.state.finishedCount(of: "jobs"), 1)

        // The cookbook workflow declares no retention: only the cluster default in the entry removes it.
        h.move("ring", "second")
        XCTAssertEqual(h.state.purgeCandidates(nowMillis: h.nowMillis + 10 * hour, defaultRetentionMillis: nil, limit: 10), ["c"])
    }

    func testTheClusterDefaultCoversWorkflowsWithoutRetention() throws {
        let final = load("""
            workflow: once
            initial: open
            states:
              open: {}
              closed: { final: true }
            transitions:
              close: { from: open, to: closed }
            """)
        var h = Harness(workflows: [final])
        h.start("once", id: "x")
        h.move("x", "close")
        h.nowMillis += 2 * hour
        XCTAssertEqual(purge(&h, ["x"])?.purged, 0, "no retention anywhere: kept")
        XCTAssertEqual(h.state.purgeCandidates(nowMillis: h.nowMillis, defaultRetentionMillis: hour, limit: 10), ["x"])
        XCTAssertEqual(purge(&h, ["x"], defaultRetention: hour)?.purged, 1)
        XCTAssertNil(h.state.instance(id: "x"))
    }

    func testAPurgedIDMayBeStartedAgainAndIsListedOnce() throws {
        var h = Harness(workflows: [jobs])
        h.start("jobs", id: "again")
        h.start("jobs", id: "stays")
        h.move("again", "finish")
        h.nowMillis += 2 * hour
        XCTAssertEqual(purge(&h, ["again"])?.purged, 1)
        guard case .instanceStarted = h.start("jobs", id: "again") else { return XCTFail("the id is free again") }
        XCTAssertEqual(h.state.instances(limit: 100).instances.map(\.id), ["stays", "again"])
        XCTAssertEqual(h.state.history(of: "again")?.entries.count, 1, "a fresh history")
    }

    func testASnapshotAfterPurgesRestoresToTheSameBytes() throws {
        var h = Harness(workflows: [jobs])
        for number in 0..<50 {
            h.start("jobs", id: "j\(number)")
            if number % 3 != 0 { h.move("j\(number)", "finish") }
        }
        h.nowMillis += 2 * hour
        let candidates = h.state.purgeCandidates(nowMillis: h.nowMillis + h.stepMillis, defaultRetentionMillis: nil, limit: 1_000)
        XCTAssertEqual(candidates.count, 33)
        XCTAssertEqual(purge(&h, Array(candidates.prefix(20)))?.purged, 20)
        let bytes = h.state.snapshot()
        var restored = try EngineState(restoring: bytes)
        XCTAssertEqual(restored.snapshot(), bytes, "purged instances leave nothing behind in a snapshot")
        XCTAssertEqual(restored.instances(limit: 100).instances.map(\.id), h.state.instances(limit: 100).instances.map(\.id))
        XCTAssertEqual(restored.purgeCandidates(nowMillis: h.nowMillis + h.stepMillis, defaultRetentionMillis: nil, limit: 1_000),
                       Array(candidates.dropFirst(20)), "the restored replica finds the same candidates")
        // Both replicas apply the next purge alike.
        let next = Command.purgeInstances(PurgeInstances(ids: Array(candidates.dropFirst(20)), proposedAtMillis: h.nowMillis + 2 * h.stepMillis))
        _ = h.state.apply(index: h.index + 1, command: next)
        _ = restored.apply(index: h.index + 1, command: next)
        XCTAssertEqual(restored.snapshot(), h.state.snapshot())
        XCTAssertEqual(h.state.instanceCount, 17)
    }

    func testManyPurgesOfLongLivedNeighboursCompactTheOrder() {
        var h = Harness(workflows: [jobs])
        // A long-lived instance first, then 3,000 that finish: the order's front never empties.
        h.start("jobs", id: "keeper")
        for number in 0..<3_000 {
            h.start("jobs", id: "t\(number)")
            h.move("t\(number)", "finish")
        }
        h.nowMillis += 2 * hour
        var purged = 0
        while true {
            let batch = h.state.purgeCandidates(nowMillis: h.nowMillis + h.stepMillis, defaultRetentionMillis: nil, limit: 1_000)
            if batch.isEmpty { break }
            purged += purge(&h, batch)?.purged ?? 0
        }
        XCTAssertEqual(purged, 3_000)
        XCTAssertLessThan(h.state.order.count, 1_100, "tombstones are compacted away")
        XCTAssertEqual(h.state.instances(limit: 10).instances.map(\.id), ["keeper"])
    }
}
