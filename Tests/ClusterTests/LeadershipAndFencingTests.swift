import Cluster
import Foundation
import Raft
import XCTest

/// What work that runs only on a leader relies on: when leading starts and ends, and that a
/// proposal fenced on a term cannot reach the log once that term's leadership is over.
extension ClusterNodeTests {
    func testLeadingStartsOnceTheTermsFirstEntryIsAppliedAndEndsSoonAfterIsolation() async throws {
        let tickMillis = 20, electionTicks = 10
        let h = try await Harness.make(ids: [1, 2, 3]) {
            $0.tickMillis = tickMillis
            $0.electionTicks = electionTicks
        }
        let leader = try await XCTUnwrapAsync(try await h.leader())
        var leading: (term: Term, since: LogIndex)?
        _ = try await waitUntil {
            if case .leading(let term, let since) = leader.leadership { leading = (term, since) }
            return leading != nil
        }
        let (term, since) = try XCTUnwrap(leading)
        XCTAssertEqual(term, leader.status.term)
        XCTAssertLessThanOrEqual(since, leader.status.appliedIndex, "leading is announced only after the term's first entry is applied")
        for id in h.ids where id != leader.id {
            if case .leading = h.nodes[id]!.leadership { XCTFail("node \(id) also claims to lead") }
        }

        let watch = leader.watchLeadership()
        let isolatedAt = ContinuousClock.now
        h.hub.isolate(leader.id)
        var ended: ContinuousClock.Instant?
        for await value in watch {
            if case .following = value {
                ended = ContinuousClock.now
                break
            }
        }
        let elapsed = try XCTUnwrap(ended) - isolatedAt
        // Check-quorum: a leader that heard from no quorum for one election timeout steps down
        // at its next check, so at most two election timeouts (plus scheduling slack).
        let boundMillis = 2 * electionTicks * tickMillis + 400
        XCTAssertLessThan(elapsed, .milliseconds(boundMillis), "leading ended \(elapsed) after isolation")
        h.hub.healAll()
        await h.shutdown()
        XCTAssertEqual(leader.leadership, .stopped)
    }

    func testAProposalFencedOnAnEndedTermIsRefusedBeforeItReachesTheLog() async throws {
        let h = try await Harness.make(ids: [1, 2, 3])
        let leader = try await XCTUnwrapAsync(try await h.leader())
        _ = try await waitUntil { if case .leading = leader.leadership { return true } else { return false } }
        let term = leader.status.term
        _ = try await leader.propose(Array("fenced=ok".utf8), fencedOn: term)
        do {
            _ = try await leader.propose(Array("wrong-term=1".utf8), fencedOn: term + 1)
            XCTFail("a proposal fenced on a term the node does not lead in must be refused")
        } catch let error as ClusterError {
            XCTAssertEqual(error, .deposed(term: term + 1, currentTerm: term))
        }

        h.hub.isolate(leader.id)
        _ = try await waitUntil { leader.status.role != .leader }
        do {
            _ = try await leader.propose(Array("late=1".utf8), fencedOn: term)
            XCTFail("the deposed leader's late proposal must be refused")
        } catch let error as ClusterError {
            guard case .deposed(term, _) = error else { return XCTFail("expected deposed, got \(error)") }
        }
        h.hub.healAll()
        _ = try await waitUntil { h.machines.values.allSatisfy { $0.contents["fenced"] == "ok" } }
        try await Task.sleep(for: .milliseconds(300))
        for (id, machine) in h.machines {
            XCTAssertNil(machine.contents["late"], "node \(id) applied the deposed leader's late proposal")
            XCTAssertNil(machine.contents["wrong-term"], "node \(id) applied a proposal fenced on a future term")
        }
        await h.shutdown()
    }

    func testAnOversizedCommandIsRefusedAndTheNodeKeepsWorking() async throws {
        let h = try await Harness.make(ids: [1]) { $0.commandBytesMax = 1_000 }
        let leader = try await XCTUnwrapAsync(try await h.leader())
        do {
            _ = try await leader.propose(Array(repeating: UInt8(ascii: "x"), count: 1_001))
            XCTFail("an oversized command must be refused")
        } catch let error as ClusterError {
            XCTAssertEqual(error, .tooLarge(bytes: 1_001, max: 1_000))
        }
        _ = try await leader.propose(Array("small=1".utf8))
        XCTAssertEqual(h.machines[1]!.contents["small"], "1")
        await h.shutdown()
    }

    func testALeaderThatCannotCommitSaysBusyOnceItsUncommittedLimitIsFull() async throws {
        let h = try await Harness.make(ids: [1, 2, 3]) {
            $0.maxUncommittedBytes = 4_096
            $0.requestTimeoutMillis = 1_000
        }
        let leader = try await XCTUnwrapAsync(try await h.leader())
        _ = try await waitUntil { if case .leading = leader.leadership { return true } else { return false } }
        // Cut the leader's appends off (it still hears the followers, so it stays leader for a while).
        for id in h.ids where id != leader.id { h.hub.cut(from: leader.id, to: id) }
        let payload = Array(repeating: UInt8(ascii: "v"), count: 1_000)
        let results = await withTaskGroup(of: ClusterError?.self) { group in
            for n in 0..<12 {
                group.addTask {
                    do {
                        _ = try await leader.propose(Array("k\(n)=".utf8) + payload)
                        return nil
                    } catch let error as ClusterError {
                        return error
                    } catch {
                        return .rejected("\(error)")
                    }
                }
            }
            var all: [ClusterError?] = []
            for await result in group { all.append(result) }
            return all
        }
        let busy = results.filter { if case .busy? = $0 { return true } else { return false } }
        XCTAssertFalse(busy.isEmpty, "back-pressure must be reported as busy: \(results)")
        h.hub.healAll()
        await h.shutdown()
    }
}
