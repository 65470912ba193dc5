import Raft
import RaftSimulation
import XCTest

/// The rules of the Raft paper (Ongaro & Ousterhout 2014), one transcript each. Messages
/// are held until the test delivers them, so every step is explicit.
final class PaperConformanceTests: XCTestCase {
    /// §5.1: a node that sees a higher term adopts it and, if leader, steps down.
    func testHigherTermTurnsLeaderIntoFollower() throws {
        var sim = try cluster([1, 2, 3], manual: true)
        // Setup: node 1 campaigns and wins.
        try sim.campaign(1)
        try sim.stabilize()
        XCTAssertEqual(sim.status(1)?.role, .leader)
        let term = sim.status(1)!.term

        // Action: a message from node 2 arrives carrying a much later term.
        try sim.inject(Message(from: 2, to: 1, term: term + 5, payload: .heartbeatResponse(.init(readRound: 0))))

        // Expectation: node 1 follows, in that term, and made the term durable.
        XCTAssertEqual(sim.status(1)?.role, .follower)
        XCTAssertEqual(sim.status(1)?.term, term + 5)
        XCTAssertEqual(sim.node(1).storage.hardState.term, term + 5)
    }

    /// §5.1: a message from an earlier term is rejected and its sender told the current term.
    func testStaleTermMessageIsRejectedWithCurrentTerm() throws {
        var sim = try cluster([1, 2, 3], manual: true)
        try sim.campaign(1)
        try sim.stabilize()
        let term = sim.status(2)!.term
        let logBefore = sim.log(2)

        // Action: a deposed leader (node 3, one term behind) sends node 2 an append.
        let stale = Entry(term: term - 1, index: sim.node(2).storage.lastIndex + 1, data: [1, 2, 3])
        try sim.inject(Message(from: 3, to: 2, term: term - 1,
                               payload: .append(.init(prevIndex: stale.index - 1, prevTerm: term - 1, entries: [stale], commit: 0))))

        // Expectation: node 2's log is untouched, and its answer carries the current term.
        XCTAssertEqual(sim.log(2), logBefore)
        let answers = sim.heldMessages.filter { $0.from == 2 && $0.to == 3 }
        XCTAssertFalse(answers.isEmpty, "node 2 answers the stale leader")
        XCTAssertTrue(answers.allSatisfy { $0.term == term })
    }

    /// §5.2: each node votes for at most one candidate per term, and the vote is durable
    /// before it is granted — it survives a crash.
    func testOneVotePerTermSurvivesRestart() throws {
        var sim = try cluster([1, 2, 3], manual: true)
        let last = sim.node(1).storage.lastIndex
        func voteRequest(from candidate: NodeID) -> Message {
            Message(from: candidate, to: 1, term: 2, payload: .vote(.init(lastIndex: last, lastTerm: 1, preVote: false)))
        }
        func answer(to candidate: NodeID) -> Message.VoteResponse? {
            for message in sim.heldMessages.reversed() where message.from == 1 && message.to == candidate {
                if case .voteResponse(let response) = message.payload { return response }
            }
            return nil
        }

        // Action: node 2 asks node 1 for its term-2 vote, then node 3 asks for the same term.
        try sim.inject(voteRequest(from: 2))
        try sim.inject(voteRequest(from: 3))

        // Expectation: node 2 got it, node 3 did not; the vote is on node 1's disk.
        XCTAssertEqual(answer(to: 2)?.granted, true)
        XCTAssertEqual(answer(to: 3)?.granted, false)
        XCTAssertEqual(sim.node(1).storage.hardState, HardState(term: 2, vote: 2, commit: sim.node(1).storage.hardState.commit))

        // Action: node 1 crashes and restarts; node 3 asks again.
        sim.crash(1)
        try sim.restart(1)
        sim.dropHeld { _ in true }
        try sim.inject(voteRequest(from: 3))

        // Expectation: still no second vote in term 2.
        XCTAssertEqual(answer(to: 3)?.granted, false)
        XCTAssertEqual(sim.status(1)?.vote, 2)
    }

    /// §5.4.1: a vote goes only to a candidate whose log is at least as up to date.
    func testVoteRequiresUpToDateLog() throws {
        // Node 1 has an entry of term 2 that nodes 2 and 3 lack.
        var sim = try cluster(logs: [1: [1, 1, 2], 2: [1, 1], 3: [1, 1]], term: 2, commit: 2)
        func answer(to candidate: NodeID) -> Bool? {
            for message in sim.heldMessages.reversed() where message.from == 1 && message.to == candidate {
                if case .voteResponse(let response) = message.payload { return response.granted }
            }
            return nil
        }

        // Action: node 2 (log ends 2/1) asks for node 1's term-3 vote.
        try sim.inject(Message(from: 2, to: 1, term: 3, payload: .vote(.init(lastIndex: 2, lastTerm: 1, preVote: false))))
        // Expectation: refused (node 1's log ends 3/2), though node 1 moved to term 3.
        XCTAssertEqual(answer(to: 2), false)
        XCTAssertEqual(sim.status(1)?.term, 3)

        // Action: node 3 asks in term 3 claiming a log as long and as recent as node 1's.
        try sim.inject(Message(from: 3, to: 1, term: 3, payload: .vote(.init(lastIndex: 3, lastTerm: 2, preVote: false))))
        // Expectation: granted — the vote of term 3 was still free.
        XCTAssertEqual(answer(to: 3), true)

        // Action: a candidate with a shorter log of a later last term, in term 4.
        try sim.inject(Message(from: 2, to: 1, term: 4, payload: .vote(.init(lastIndex: 2, lastTerm: 3, preVote: false))))
        // Expectation: granted: the later last term wins over length.
        XCTAssertEqual(answer(to: 2), true)
    }

    /// Figure 7: a new leader of term 8 brings six followers with missing, extra and
    /// conflicting entries to exactly its own log.
    func testFigure7LeaderRepairsEveryFollowerLog() throws {
        let leaderLog: [Term] = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
        var sim = try cluster(logs: [
            1: leaderLog,
            2: [1, 1, 1, 4, 4, 5, 5, 6, 6],           // (a) missing one entry
            3: [1, 1, 1, 4],                          // (b) missing many
            4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],     // (c) one extra uncommitted entry
            5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],  // (d) two extra entries of term 7
            6: [1, 1, 1, 4, 4, 4, 4],                 // (e) extra entries of term 4
            7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],     // (f) a whole divergent suffix
        ], term: 7, commit: 3)

        // Action: node 1 campaigns; (a), (b), (e), (f) vote for it; every message is delivered.
        try sim.campaign(1)
        try sim.stabilize()
        XCTAssertEqual(sim.status(1)?.role, .leader)
        XCTAssertEqual(sim.status(1)?.term, 8)
        try sim.run(ticks: 1)  // a heartbeat carries the new commit index
        try sim.stabilize()

        // Expectation: every log is the leader's plus its empty term-8 entry, all committed.
        for id: NodeID in 1...7 {
            XCTAssertEqual(sim.logTerms(id), leaderLog + [8], "log of node \(id)")
            XCTAssertEqual(sim.status(id)?.commit, 11, "commit of node \(id)")
        }
    }

    /// Figure 8 (a)–(d): an entry of an earlier term stored on a majority is NOT committed
    /// by counting replicas, and may then legitimately be overwritten.
    func testFigure8EntryOfOldTermIsNotCommittedByCounting() throws {
        // (b) S1 led term 2 and stored 2/2 on S1, S2; S5 led term 3 and stored 2/3 alone.
        var sim = try figure8()
        // (c) S1 leads term 4 (votes of S2, S3) and replicates 2/2 to S3 — but not yet
        // its own term-4 entry.
        try reachFigure8StateC(&sim)
        XCTAssertEqual(sim.status(1)?.role, .leader)
        XCTAssertEqual(sim.status(1)?.term, 4)
        for id: NodeID in [1, 2, 3] { XCTAssertEqual(sim.node(id).storage.term(at: 2), 2, "S\(id) holds 2/2") }
        // Expectation: 2/2 is on a majority, yet not committed: it is not of term 4.
        XCTAssertEqual(sim.status(1)?.commit, 1)

        // (d) S1 crashes; S5 campaigns (twice: S3 voted in term 4) and wins term 5 with
        // S3 and S4, then overwrites 2/2 everywhere with its 2/3.
        sim.crash(1)
        sim.dropHeld { $0.from == 1 || $0.to == 1 }
        try sim.campaign(5)
        try sim.stabilize(where: { $0.from != 1 && $0.to != 1 })
        if sim.status(5)?.role != .leader {
            try sim.campaign(5)
            try sim.stabilize(where: { $0.from != 1 && $0.to != 1 })
        }
        XCTAssertEqual(sim.status(5)?.role, .leader)
        try sim.run(ticks: 1)
        try sim.stabilize(where: { $0.from != 1 && $0.to != 1 })
        for id: NodeID in [2, 3, 4, 5] { XCTAssertEqual(sim.node(id).storage.term(at: 2), 3, "S\(id) holds 2/3") }
        XCTAssertGreaterThanOrEqual(sim.status(5)!.commit, 3)
    }

    /// Figure 8 (e): once the leader's own term-4 entry reaches a majority, it and the
    /// older 2/2 below it commit together.
    func testFigure8OldEntryCommitsBelowCurrentTermEntry() throws {
        var sim = try figure8()
        try reachFigure8StateC(&sim)
        XCTAssertEqual(sim.status(1)?.commit, 1)

        // Action: S3 now receives the term-4 entry.
        try sim.stabilize(where: Simulation.within([1, 2, 3]))

        // Expectation: 2/2 and 3/4 are committed and applied by S1.
        XCTAssertEqual(sim.status(1)?.commit, 3)
        XCTAssertEqual(sim.node(1).applied?.index, 3)
        XCTAssertEqual(sim.node(1).applied?.term, 4)
    }

    /// Five nodes in state (b) of Figure 8, one entry per append, without pre-vote and
    /// check-quorum (the figure is about the basic algorithm).
    private func figure8(function: String = #function) throws -> Simulation {
        try cluster(logs: [1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]], term: 3, commit: 1, function: function) { options in
            options.raft.maxEntriesPerMessage = 1
            options.raft.preVote = false
            options.raft.checkQuorum = false
        }
    }

    /// S1 campaigns; S1, S2, S3 talk while S4 and S5 hear nothing. S3 rejects S1's first
    /// append (it lacks index 2), accepts the probe carrying 2/2, and never gets the
    /// append carrying the term-4 entry.
    private func reachFigure8StateC(_ sim: inout Simulation) throws {
        try sim.campaign(1)
        try sim.stabilize(where: { Simulation.within([1, 2, 3])($0) && !($0.to == 3 && Self.isAppend($0)) })
        try sim.deliverHeld(where: { $0.to == 3 && Self.isAppend($0) })
        try sim.stabilize(where: { message in
            guard Simulation.within([1, 2, 3])(message) else { return false }
            if message.to == 3, case .append(let append) = message.payload, append.entries.contains(where: { $0.term == 4 }) {
                return false
            }
            return true
        })
    }

    private static func isAppend(_ message: Message) -> Bool {
        if case .append = message.payload { return true }
        return false
    }
}
