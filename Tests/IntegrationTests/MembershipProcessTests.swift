import Foundation
import Synchronization
import XCTest

/// Membership changes on real `serve` processes, as docs/operations.md ("Membership")
/// describes them: nodes started with `--join` and no peers are added as learners, catch up,
/// are promoted; the leader is removed; leadership is transferred — all while clients keep
/// submitting. And the two refusals that keep a cluster available: promoting a learner that
/// is not in sync, and a change that would leave the live voters short of a quorum.
final class MembershipProcessTests: XCTestCase {
    struct Acknowledged: Sendable {
        let instance: String
        let requestID: String
    }

    /// Where the submitters send their requests, changed by the test as members come and go.
    final class Targets: Sendable {
        private let state = Mutex<(urls: [String], stopped: Bool)>(([], false))
        init(_ urls: [String]) { state.withLock { $0.urls = urls } }
        var urls: [String] { state.withLock { $0.urls } }
        var stopped: Bool { state.withLock { $0.stopped } }
        func set(_ urls: [String]) { state.withLock { $0.urls = urls } }
        func stop() { state.withLock { $0.stopped = true } }
    }

    static let next = ["first": "second", "second": "third", "third": "first"]

    func testClusterGrowsFromThreeToFiveUnderLoadLosesItsLeaderAndKeepsEveryAcknowledgedTransition() async throws {
        // Frequent snapshots, few entries kept below them: a joining node is far behind the
        // compacted log, so it gets a snapshot first (and the addresses in it).
        let cluster = try ProcessCluster(count: 3, extraArguments: ["--snapshot-every", "100", "--snapshot-trailing", "10"])
        defer { cluster.stop() }
        try cluster.startAll()
        let firstLeader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: firstLeader)
        let submitters = 3
        for s in 0..<submitters {
            let (status, body) = try await cluster.requestUntilAvailable("POST", 1 + s % 3, "/v1/instances",
                                                                         ["workflow": "cookbook", "id": "m\(s)", "request_id": "start-m\(s)"],
                                                                         timeout: 30)
            XCTAssertEqual(status, 201, "\(body)")
        }
        let targets = Targets([1, 2, 3].map { cluster.nodes[$0]!.url })
        let instances = (0..<submitters).map { "m\($0)" }
        async let acknowledged = Self.load(targets, instances: instances)
        defer { targets.stop() }  // on a failure too, before the submitters are awaited
        var refusedPromotions: [Int: Int] = [:]
        let compacted = Date().addingTimeInterval(30)
        while ![1, 2, 3].contains(where: { cluster.log($0).contains("took snapshot") }) && Date() < compacted {
            try await Task.sleep(for: .milliseconds(100))
        }

        // 3 → 4 → 5: each new node starts with --join and no peers, is added as a learner,
        // catches up, and is promoted once the leader says it is in sync.
        for id in [4, 5] {
            try cluster.addJoiningNode(id)
            try cluster.start(id)
            let (added, addBody) = try await cluster.addMember(id, learner: true, via: 1)
            XCTAssertEqual(added, 200, "add \(id): \(addBody)\n\(cluster.logTails())")
            try await waitUntilCaughtUp(cluster, id)
            refusedPromotions[id] = try await promoteWhenReady(cluster, id)
            targets.set(cluster.running.map { cluster.nodes[$0]!.url })
        }
        for id in [4, 5] {
            let snapshotLines = cluster.log(id).split(separator: "\n").filter { $0.contains("snapshot") }.joined(separator: " // ")
            XCTAssertTrue(cluster.log(id).contains("installed snapshot"), "node \(id) caught up from a snapshot: \(snapshotLines)")
        }
        let five = try await cluster.requestUntilAvailable("GET", 2, "/v1/cluster")
        let voters = (five.1["members"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "voter" }.compactMap { $0["id"] as? Int }
        XCTAssertEqual(voters.sorted(), [1, 2, 3, 4, 5], "\(five.1)")

        // A learner and a follower answer `cluster status` with the leader's view.
        let (_, fromJoined) = try await cluster.request("GET", 5, "/v1/cluster")
        let leaderNow = try await cluster.waitForLeader()
        XCTAssertEqual(fromJoined["node"] as? Int, leaderNow, "node 5 forwards the read to the leader: \(fromJoined)")
        for member in fromJoined["members"] as? [[String: Any]] ?? [] {
            XCTAssertNotNil(member["match_index"] as? Int, "match index of \(member) seen from node 5")
            XCTAssertEqual(member["live"] as? Bool, true, "\(member) seen from node 5")
        }

        // Remove the leader (through another node, which forwards): it steps down, the other
        // four elect a leader among themselves.
        let removed = leaderNow
        let via = [1, 2, 3, 4, 5].first { $0 != removed }!
        targets.set(cluster.running.filter { $0 != removed }.map { cluster.nodes[$0]!.url })
        let (removedStatus, removedBody) = try await cluster.requestUntilAvailable("DELETE", via, "/v1/cluster/members/\(removed)")
        XCTAssertEqual(removedStatus, 200, "remove the leader \(removed): \(removedBody)\n\(cluster.logTails())")
        let remaining = [1, 2, 3, 4, 5].filter { $0 != removed }
        let successor = try await cluster.waitForLeader(among: remaining, timeout: 20)
        XCTAssertNotEqual(successor, removed)
        cluster.stopNode(removed)

        // Hand leadership to a joined node (5, or 4 if 5 already leads).
        let target = successor == 5 ? 4 : 5
        let (moved, movedBody) = try await cluster.requestUntilAvailable("POST", remaining.first { $0 != target }!,
                                                                         "/v1/cluster/transfer-leader", ["to": target])
        XCTAssertEqual(moved, 200, "transfer to \(target): \(movedBody)\n\(cluster.logTails())")
        let transferred = try await cluster.waitForLeader(among: remaining, timeout: 20)
        XCTAssertEqual(transferred, target)

        try await Task.sleep(for: .seconds(2))
        targets.stop()
        let acks = await acknowledged
        XCTAssertGreaterThan(acks.count, 30, "the submitters made progress through every change")

        try await converge(cluster, remaining)
        for s in 0..<submitters {
            let instance = "m\(s)"
            var histories: [Int: [String]] = [:]
            var requestIDs: [String] = []
            for id in remaining {
                let entries = try await cluster.history(of: instance, on: id) ?? []
                XCTAssertFalse(entries.isEmpty, "node \(id): history of \(instance)")
                histories[id] = entries.map { "\($0["index"] ?? "")|\($0["request_id"] ?? "")|\($0["to"] ?? "")" }
                if id == transferred { requestIDs = entries.compactMap { $0["request_id"] as? String } }
            }
            for id in remaining { XCTAssertEqual(histories[id], histories[transferred], "\(instance): node \(id) agrees with the leader") }
            for ack in acks where ack.instance == instance {
                XCTAssertEqual(requestIDs.filter { $0 == ack.requestID }.count, 1, "\(instance): \(ack.requestID) is in the history once")
            }
        }
        print("membership under load: \(acks.count) acknowledged transitions; promotions refused while catching up: "
              + "\(refusedPromotions.sorted { $0.key < $1.key }.map { "node \($0.key) ×\($0.value)" }.joined(separator: ", "))")
    }

    func testPromotingALaggingLearnerAndLosingQuorumAreRefused() async throws {
        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)

        // Node 4 is added as a learner but never started: its match index stays 0.
        try cluster.addJoiningNode(4)
        let (added, addBody) = try await cluster.addMember(4, learner: true, via: leader)
        XCTAssertEqual(added, 200, "\(addBody)")
        let listed = (addBody["members"] as? [[String: Any]] ?? []).first { $0["id"] as? Int == 4 }
        XCTAssertEqual(listed?["role"] as? String, "learner", "the answer shows the membership the change made: \(addBody)")
        let (promoted, promoteBody) = try await cluster.requestUntilAvailable("POST", leader, "/v1/cluster/members/4/promote")
        XCTAssertEqual(promoted, 409, "\(promoteBody)")
        let error = promoteBody["error"] as? [String: Any] ?? [:]
        let details = error["details"] as? [String: Any] ?? [:]
        XCTAssertEqual(error["code"] as? String, "learner_not_ready", "\(promoteBody)")
        XCTAssertEqual(details["match_index"] as? Int, 0)
        XCTAssertEqual(details["live"] as? Bool, false)
        XCTAssertGreaterThan(details["leader_last_index"] as? Int ?? 0, 0)
        XCTAssertTrue((error["message"] as? String ?? "").contains("its match index is 0"), "\(promoteBody)")

        // The CLI, through a follower: exit 1 with the code and the numbers.
        let follower = [1, 2, 3].first { $0 != leader }!
        let run = try cluster.cli(["cluster", "promote", "4", "--server", cluster.nodes[follower]!.url])
        XCTAssertEqual(run.status, 1, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("[learner_not_ready]") && run.stderr.contains("match index is 0"), run.stderr)

        // One follower goes down; once the leader has not heard from it for an election
        // timeout, removing the other follower would leave one live voter of two: refused.
        let down = follower
        let up = [1, 2, 3].first { $0 != leader && $0 != down }!
        cluster.kill9(down)
        try await Task.sleep(for: .seconds(1))
        let (refused, refusedBody) = try await cluster.requestUntilAvailable("DELETE", up, "/v1/cluster/members/\(up)")
        XCTAssertEqual(refused, 409, "\(refusedBody)")
        let quorumError = refusedBody["error"] as? [String: Any] ?? [:]
        let quorumDetails = quorumError["details"] as? [String: Any] ?? [:]
        XCTAssertEqual(quorumError["code"] as? String, "would_lose_quorum", "\(refusedBody)")
        XCTAssertEqual(quorumDetails["live_voters"] as? [Int], [leader], "\(refusedBody)")
        XCTAssertEqual((quorumDetails["voters_after"] as? [Int])?.sorted(), [leader, down].sorted(), "\(refusedBody)")
        XCTAssertEqual(quorumDetails["quorum"] as? Int, 2)
        let cli = try cluster.cli(["cluster", "remove", "\(up)", "--server", cluster.nodes[up]!.url])
        XCTAssertEqual(cli.status, 1, cli.stderr)
        XCTAssertTrue(cli.stderr.contains("[would_lose_quorum]"), cli.stderr)

        // `cluster status` from the follower shows the leader's view: the dead one not live.
        let (_, view) = try await cluster.request("GET", up, "/v1/cluster")
        XCTAssertEqual(view["node"] as? Int, leader, "\(view)")
        let members = Dictionary(uniqueKeysWithValues: (view["members"] as? [[String: Any]] ?? []).map { ($0["id"] as? Int ?? 0, $0) })
        XCTAssertEqual(members[down]?["live"] as? Bool, false, "\(view)")
        XCTAssertEqual(members[up]?["live"] as? Bool, true, "\(view)")
        XCTAssertEqual(members[4]?["match_index"] as? Int, 0, "\(view)")
        let table = try cluster.cli(["cluster", "status", "--server", cluster.nodes[up]!.url])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("answered by node \(leader)") && table.stdout.contains("LIVE"), table.stdout)

        // Removing the voter that is down leaves two live voters of two: accepted, and the
        // cluster still commits.
        let (removedDown, removedBody) = try await cluster.requestUntilAvailable("DELETE", up, "/v1/cluster/members/\(down)")
        XCTAssertEqual(removedDown, 200, "\(removedBody)")
        let (started, startBody) = try await cluster.requestUntilAvailable("POST", up, "/v1/instances",
                                                                           ["workflow": "cookbook", "id": "after-removal"])
        XCTAssertEqual(started, 201, "\(startBody)")
    }

    // MARK: Steps

    /// Waits until node `id` has applied what the leader had committed when it was asked.
    private func waitUntilCaughtUp(_ cluster: ProcessCluster, _ id: Int) async throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let leader = try? await cluster.waitForLeader(among: cluster.running.filter { $0 != id }, timeout: 10),
               let (_, leaderHealth) = try? await cluster.request("GET", leader, "/v1/health"),
               let (_, health) = try? await cluster.request("GET", id, "/v1/health"),
               let commit = leaderHealth["commit_index"] as? Int, let applied = health["applied_index"] as? Int,
               applied >= commit {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("node \(id) did not catch up\n\(cluster.logTails())")
        throw CancellationError()
    }

    /// Promotes learner `id`, retrying while the leader answers `learner_not_ready` (under
    /// load its match index may trail by more than the limit for a moment); returns how many
    /// times it was refused.
    private func promoteWhenReady(_ cluster: ProcessCluster, _ id: Int) async throws -> Int {
        var refusals = 0
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let (status, body) = try await cluster.requestUntilAvailable("POST", id, "/v1/cluster/members/\(id)/promote")
            if status == 200 { return refusals }
            let code = (body["error"] as? [String: Any])?["code"] as? String
            guard status == 409, code == "learner_not_ready" else {
                XCTFail("promote \(id): \(status) \(body)\n\(cluster.logTails())")
                throw CancellationError()
            }
            refusals += 1
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("node \(id) was never promoted\n\(cluster.logTails())")
        throw CancellationError()
    }

    /// Waits until every node in `ids` has applied the leader's commit index.
    private func converge(_ cluster: ProcessCluster, _ ids: [Int]) async throws {
        let deadline = Date().addingTimeInterval(30)
        var last = ""
        while Date() < deadline {
            let leader = try await cluster.waitForLeader(among: ids, timeout: 10)
            var applied: [Int: Int] = [:]
            for id in ids {
                if let (_, health) = try? await cluster.request("GET", id, "/v1/health") { applied[id] = health["applied_index"] as? Int ?? -1 }
            }
            let (_, leaderHealth) = try await cluster.request("GET", leader, "/v1/health")
            last = "applied \(applied), leader \(leader) commit \(leaderHealth["commit_index"] ?? "?")"
            if Set(applied.values).count == 1, applied.values.first == leaderHealth["commit_index"] as? Int { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("nodes \(ids) did not converge: \(last)")
    }

    /// One submitter per instance until the targets are stopped; every acknowledged transition.
    static func load(_ targets: Targets, instances: [String]) async -> [Acknowledged] {
        await withTaskGroup(of: [Acknowledged].self) { group in
            for instance in instances { group.addTask { await submitLoop(targets, instance: instance) } }
            var all: [Acknowledged] = []
            for await part in group { all += part }
            return all
        }
    }

    /// Moves `instance` around the cookbook cycle until the targets are stopped, each request
    /// retried with the same request id (through the next target) until it gets a definite
    /// answer; returns the acknowledged ones.
    static func submitLoop(_ targets: Targets, instance: String) async -> [Acknowledged] {
        var acknowledged: [Acknowledged] = []
        var state = "first"
        var sequence = 0
        var turn = 0
        while !targets.stopped && !Task.isCancelled {
            sequence += 1
            let requestID = "\(instance)-\(sequence)"
            let to = next[state]!
            var answer: (url: String, status: Int, body: [String: Any])?
            let giveUp = Date().addingTimeInterval(30)
            while answer == nil && Date() < giveUp && !Task.isCancelled {
                let urls = targets.urls
                turn += 1
                let url = urls[turn % urls.count]
                if let (status, body) = try? await ProcessCluster.request("POST", url: url + "/v1/instances/\(instance)/transitions",
                                                                           ["to": to, "expect": state, "request_id": requestID], timeout: 5),
                   status != 503 && status != 504 {
                    answer = (url, status, body)
                } else {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            guard let answer else { break }
            if answer.status == 200, answer.body["state"] as? String == to {
                acknowledged.append(Acknowledged(instance: instance, requestID: requestID))
                state = to
            } else {
                // A definite refusal (429 during a leadership transfer, 409): re-read and go on.
                try? await Task.sleep(for: .milliseconds(50))
                if let (_, current) = try? await ProcessCluster.request("GET", url: answer.url + "/v1/instances/\(instance)"),
                   let now = current["state"] as? String { state = now }
            }
        }
        return acknowledged
    }
}
