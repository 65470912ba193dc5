import XCTest
@testable import Raft

/// Catch-up is paced by acknowledgements: a far-behind follower never has more than
/// `maxInflightBytes` of entries sent to it and not yet acknowledged.
final class FlowControlTests: XCTestCase {
    func testFarBehindFollowerIsNeverSentMoreThanTheByteBudgetBeforeAcks() throws {
        let budget = 16 << 10
        let payload = String(repeating: "x", count: 100)   // 124 bytes an entry
        let entryBytes = Entry(term: 0, index: 0, data: Array("\(payload)9999".utf8)).sizeBytes
        var c = TestCluster(voters: [1, 2, 3]) { config in
            config.maxInflightBytes = budget
            config.maxBytesPerMessage = 4 << 10
            config.maxUncommittedBytes = 64 << 20
        }
        c.elect(1)
        c.crash(3)
        for i in 0..<2_000 { _ = try c.propose(1, "\(payload)\(i)") }
        c.restart(3)
        // A heartbeat finds the follower; from then on no ticks: only acks free the window.
        c.nodes[1]!.tick()
        // Appends to 3 not answered yet, by prevIndex: their last index and entry bytes.
        var outstanding: [LogIndex: (last: LogIndex, bytes: Int)] = [:]
        var maxOutstanding = 0
        var appendsTo3 = 0
        for _ in 0..<10_000 {
            c.processReadies()
            if c.inFlight.isEmpty { break }
            let batch = c.inFlight
            c.inFlight = []
            for message in batch {
                switch (message.from, message.to, message.payload) {
                case (1, 3, .append(let append)):
                    if let last = append.entries.last {
                        appendsTo3 += 1
                        outstanding[append.prevIndex] = (last.index, append.entries.reduce(0) { $0 + $1.sizeBytes })
                    }
                case (3, 1, .appendResponse(let response)):
                    // An acknowledgement answers everything up to its index; a rejection, the
                    // append whose prevIndex it names.
                    outstanding = outstanding.filter { response.reject ? $0.key != response.index : $0.value.last > response.index }
                default: break
                }
                maxOutstanding = max(maxOutstanding, outstanding.values.reduce(0) { $0 + $1.bytes })
                c.nodes[message.to]!.step(message)
            }
        }
        XCTAssertLessThanOrEqual(maxOutstanding, budget + entryBytes, "bytes in flight to the lagging follower")
        XCTAssertGreaterThan(appendsTo3, 2_000 * entryBytes / budget, "the catch-up took several windows")
        c.tick(2)   // the last commit index travels with the next heartbeat
        XCTAssertEqual(c.appliedTexts(3).count, 2_000, "the follower caught up")
        XCTAssertEqual(c.nodes[1]!.status.progress[3]?.match, c.nodes[1]!.status.lastIndex)
    }
}
