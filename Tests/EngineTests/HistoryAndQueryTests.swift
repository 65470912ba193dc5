import XCTest
@testable import Engine
import Workflow

final class HistoryAndQueryTests: XCTestCase {
    func testHistoryRecordsStartAndEveryAcceptedTransitionInLogOrder() {
        var h = Harness()
        h.start("order", id: "o", requestID: "s")
        h.move("o", "ship")              // rejected: not recorded
        h.move("o", "pay", requestID: "p")
        h.move("o", to: "shipped")
        let entries = h.state.history(of: "o")!.entries
        XCTAssertEqual(entries.map(\.kind), [.start, .transition, .transition])
        XCTAssertEqual(entries.map(\.index), [3, 5, 6])
        XCTAssertEqual(entries.map(\.from), [nil, "created", "paid"])
        XCTAssertEqual(entries.map(\.to), ["created", "paid", "shipped"])
        XCTAssertEqual(entries.map(\.transition), [nil, "pay", "ship"])
        XCTAssertEqual(entries.map(\.requestID), ["s", "p", nil])
        XCTAssertEqual(entries.map(\.revision), [1, 2, 3])
        XCTAssertEqual(h.state.history(of: "o")?.droppedCount, 0)
        XCTAssertNil(h.state.history(of: "nope"))
    }

    func testHistoryKeepsTheNewestEntriesAndCountsTheDropped() {
        var h = Harness(settings: EngineSettings(historyEntriesPerInstanceMax: 4))
        h.start("cookbook", id: "c")
        let ring = ["second", "third", "first"]
        for number in 0..<10 { h.move("c", ring[number % 3]) }
        let history = h.state.history(of: "c")!
        XCTAssertEqual(history.entries.count, 4)
        XCTAssertEqual(history.droppedCount, 7)
        XCTAssertEqual(history.entries.map(\.revision), [8, 9, 10, 11])
        XCTAssertEqual(h.state.instance(id: "c")?.revision, 11)
    }

    func testHistoryPagesReturnEveryEntryOnceInOrderOver12000Transitions() {
        var h = Harness()
        h.start("cookbook", id: "c")
        let ring = ["second", "third", "first"]
        for number in 0..<12_000 { h.move("c", ring[number % 3]) }
        var revisions: [UInt64] = []
        var after: UInt64?
        var pages = 0
        repeat {
            let page = h.state.historyPage(of: "c", after: after, limit: 1_000)!
            XCTAssertLessThanOrEqual(page.entries.count, 1_000)
            revisions += page.entries.map(\.revision)
            XCTAssertEqual(page.droppedCount, 2_001, "the default keeps 10,000 of 12,001 entries")
            after = page.nextAfter
            pages += 1
        } while after != nil
        XCTAssertEqual(pages, 10)
        XCTAssertEqual(revisions, Array(2_002...12_001), "each retained entry once, in log order")
        let first = h.state.historyPage(of: "c", after: nil, limit: 5)!
        XCTAssertEqual(first.retainedFromIndex, first.entries.first?.index)
        XCTAssertEqual(h.state.historyEntriesDropped, 2_001)
        XCTAssertNil(h.state.historyPage(of: "nope", after: nil, limit: 5))
        let past = h.state.historyPage(of: "c", after: UInt64.max, limit: 5)!
        XCTAssertTrue(past.entries.isEmpty)
        XCTAssertNil(past.nextAfter)
    }

    func testAWorkflowsHistoryLimitOverridesTheDefault() {
        let short = load("""
            workflow: short
            initial: a
            history: { max_entries: 3 }
            states:
              a: {}
            transitions:
              loop: { from: a, to: a }
            """)
        var h = Harness(workflows: [short])
        h.start("short", id: "s")
        for _ in 0..<5 { h.move("s", "loop") }
        let page = h.state.historyPage(of: "s", after: nil, limit: 100)!
        XCTAssertEqual(page.entries.map(\.revision), [4, 5, 6])
        XCTAssertEqual(page.droppedCount, 3)
        XCTAssertEqual(page.retainedFromIndex, page.entries.first?.index)
        XCTAssertNil(page.nextAfter)
    }

    func testAPageNeverSplitsEntriesOfOneLogIndex() {
        var log = HistoryLog()
        // Indexes 1, 2, 2, 2, 3: a hook result (2) recorded with the transition it took.
        for (number, index) in [1, 2, 2, 2, 3].enumerated() {
            log.append(HistoryEntry(kind: .transition, index: UInt64(index), timeMillis: 0, from: "a", to: "a",
                                    transition: "t", requestID: nil, revision: UInt64(number + 1)), max: 100)
        }
        let first = log.page(after: nil, limit: 2)
        XCTAssertEqual(first.entries.map(\.revision), [1, 2, 3, 4], "the page takes all of index 2")
        XCTAssertTrue(first.more)
        let second = log.page(after: 2, limit: 2)
        XCTAssertEqual(second.entries.map(\.revision), [5])
        XCTAssertFalse(second.more)
    }

    func testListingIsInStartOrderWithFiltersAndPaging() {
        var h = Harness()
        for number in 0..<25 {
            h.start(number % 5 == 0 ? "cookbook" : "order", id: "i\(number)")
        }
        for number in stride(from: 1, to: 25, by: 3) where number % 5 != 0 { h.move("i\(number)", "pay") }

        XCTAssertEqual(h.state.instances(limit: 1000).instances.map(\.id), (0..<25).map { "i\($0)" })
        XCTAssertEqual(h.state.instances(workflow: "cookbook").instances.map(\.id), ["i0", "i5", "i10", "i15", "i20"])
        let paid = h.state.instances(workflow: "order", state: "paid").instances.map(\.id)
        XCTAssertEqual(paid, ["i1", "i4", "i7", "i13", "i16", "i19", "i22"])

        var collected: [String] = []
        var page = h.state.instances(workflow: "order", limit: 6)
        collected += page.instances.map(\.id)
        var pages = 1
        while let cursor = page.nextCursor {
            page = h.state.instances(workflow: "order", after: cursor, limit: 6)
            collected += page.instances.map(\.id)
            pages += 1
        }
        XCTAssertEqual(collected, (0..<25).filter { $0 % 5 != 0 }.map { "i\($0)" })
        XCTAssertEqual(pages, 4)
        XCTAssertTrue(h.state.instances(state: "nowhere").instances.isEmpty)
        XCTAssertNil(h.state.instances(state: "nowhere").nextCursor)
    }

    func testCursorIsStableWhileInstancesMoveAndNewOnesStart() {
        var h = Harness()
        for number in 0..<4 { h.start("cookbook", id: "c\(number)") }
        let first = h.state.instances(limit: 2)
        XCTAssertEqual(first.instances.map(\.id), ["c0", "c1"])
        h.move("c0", "second")
        h.start("cookbook", id: "a-new")
        let second = h.state.instances(after: first.nextCursor, limit: 10)
        XCTAssertEqual(second.instances.map(\.id), ["c2", "c3", "a-new"])
        XCTAssertNil(second.nextCursor)
    }

    func testInstanceCountsPerWorkflowAndState() {
        var h = Harness()
        h.start("order", id: "a")
        h.start("order", id: "b")
        h.start("cookbook", id: "c")
        h.move("a", "pay")
        h.move("c", "second")
        XCTAssertEqual(h.state.instanceCounts(), ["order": ["created": 1, "paid": 1], "cookbook": ["second": 1]])
        let restored = try! EngineState(restoring: h.state.snapshot())
        XCTAssertEqual(restored.instanceCounts(), h.state.instanceCounts())
    }

    func testEmptyAndStaleEntries() {
        var state = EngineState()
        XCTAssertEqual(state.apply(index: 5, bytes: []).outcome, .noop)
        XCTAssertEqual(state.appliedIndex, 5)
        XCTAssertEqual(state.apply(index: 5, bytes: []).outcome, .alreadyApplied(index: 5, appliedIndex: 5))
        XCTAssertEqual(state.apply(index: 3, command: .startInstance(StartInstance(workflow: "w", id: "x"))).outcome,
                       .alreadyApplied(index: 3, appliedIndex: 5))
        XCTAssertEqual(state.apply(index: 9, bytes: [0xff]).outcome.rejection?.code, "malformed_command")
        XCTAssertEqual(state.appliedIndex, 9)
    }
}

final class HistoryLogTests: XCTestCase {
    private func entry(_ revision: UInt64) -> HistoryEntry {
        HistoryEntry(kind: .transition, index: revision, timeMillis: 0, from: "a", to: "b", transition: "t", requestID: nil,
                     revision: revision)
    }

    func testRingKeepsTheNewestInOrder() {
        var log = HistoryLog()
        for revision: UInt64 in 1...10 { log.append(entry(revision), max: 3) }
        XCTAssertEqual(log.entries.map(\.revision), [8, 9, 10])
        XCTAssertEqual(log.dropped, 7)
        XCTAssertEqual(log.last?.revision, 10)
        XCTAssertEqual(log, HistoryLog(entries: [entry(8), entry(9), entry(10)], dropped: 7))
    }

    func testLimitChangesAreHandled() {
        var log = HistoryLog()
        for revision: UInt64 in 1...10 { log.append(entry(revision), max: 4) }
        // Lowered: trimmed to the new limit on the next append.
        log.append(entry(11), max: 2)
        XCTAssertEqual(log.entries.map(\.revision), [10, 11])
        XCTAssertEqual(log.dropped, 9)
        // Raised while rotated: grows again.
        for revision: UInt64 in 12...13 { log.append(entry(revision), max: 3) }
        XCTAssertEqual(log.entries.map(\.revision), [11, 12, 13])
        log.append(entry(14), max: 5)
        log.append(entry(15), max: 5)
        XCTAssertEqual(log.entries.map(\.revision), [11, 12, 13, 14, 15])
        XCTAssertEqual(UInt64(log.count) + log.dropped, 15)
    }

    func testSnapshotOfARotatedHistoryIsIdentical() throws {
        var h = Harness(settings: EngineSettings(historyEntriesPerInstanceMax: 3))
        h.start("cookbook", id: "c")
        for name in ["second", "third", "first", "second"] { h.move("c", name) }
        let bytes = h.state.snapshot()
        let restored = try EngineState(restoring: bytes, settings: h.state.settings)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.history(of: "c"), h.state.history(of: "c"))
    }
}
