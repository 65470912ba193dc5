import ArgumentParser
import Client

/// `orchestrator cluster status|add|promote|remove|transfer-leader`
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show and change the cluster's membership.",
        discussion: """
            Membership changes go through the leader (any node forwards them) one at a time. \
            Add a new node as a --learner first, let it catch up, then promote it.

            Examples:
              orchestrator cluster status
              orchestrator cluster add 4 --raft 127.0.0.1:7083 --api 127.0.0.1:8083 --learner
              orchestrator cluster promote 4
              orchestrator cluster remove 2
              orchestrator cluster transfer-leader 3
            """,
        subcommands: [StatusCommand.self, Add.self, Promote.self, Remove.self, TransferLeader.self]
    )

    /// Prints the members as a table.
    static func describe(_ status: ClusterStatus) -> String {
        var rows = [["ID", "ROLE", "RAFT", "API", "MATCH", "LIVE"]]
        for member in status.members.sorted(by: { $0.id < $1.id }) {
            let role = member.isLeader ? "leader" : member.role
            rows.append([String(member.id), role, member.raft, member.api, member.matchIndex.map(String.init) ?? "-",
                         member.live.map { $0 ? "yes" : "no" } ?? "-"])
        }
        let leader = status.leader.map { "node \($0)" } ?? "none"
        return "term \(status.term), leader \(leader), commit \(status.commitIndex) (answered by node \(status.node))\n"
            + table(rows)
    }

    /// `orchestrator cluster status`
    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "List members, their roles and replication progress.",
            discussion: """
                Any node answers with the leader's view: a follower forwards the request to the \
                leader. MATCH is the highest log index the leader knows each member has; LIVE says \
                whether the leader heard from it within the last election timeout (what the \
                membership checks count). Both are '-' when no leader could be asked.

                Exit status: 0 ok, 3 cluster unavailable.

                Example:
                  orchestrator cluster status --server http://127.0.0.1:8081
                """
        )

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient { client in
                options.emit(try await client.call(.cluster), human: ClusterCommand.describe)
            }
        }
    }

    /// `orchestrator cluster add ID --raft HOST:PORT --api HOST:PORT [--learner]`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a node as a voter, or with --learner as a non-voting learner.",
            discussion: """
                Start the new node first (orchestrator serve --join, with its own --raft and --api \
                addresses and no peers), then add it: the leader replicates every member's \
                addresses, then the change, and the new node learns them from the log.

                Exit status: 0 added, 1 rejected, 2 bad input, 3 cluster unavailable.

                Example:
                  orchestrator cluster add 4 --raft 127.0.0.1:7083 --api 127.0.0.1:8083 --learner
                """
        )

        @Argument(help: "The new node's id.")
        var id: UInt64

        @Option(help: ArgumentHelp("The node's Raft address.", valueName: "host:port"))
        var raft: String

        @Option(help: ArgumentHelp("The node's HTTP API address.", valueName: "host:port"))
        var api: String

        @Flag(help: "Add as a learner (receives the log, does not vote).")
        var learner = false

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient(retry: RetryPolicy.none) { client in
                let reply = try await client.call(.addMember(id: id, raft: raft, api: api, learner: learner))
                options.emit(reply) { "added node \(id) as a \(learner ? "learner" : "voter")\n" + ClusterCommand.describe($0) }
            }
        }
    }

    /// `orchestrator cluster promote ID`
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a learner a voter.",
            discussion: """
                The leader promotes a learner only when it is in sync: heard from within the last \
                election timeout and at most 1000 entries behind the leader's last index \
                (learner_not_ready otherwise), and only when the voters it heard from recently \
                would be a quorum of the new voters (would_lose_quorum otherwise).

                Exit status: 0 promoted, 1 rejected (learner_not_ready, would_lose_quorum, …), 3 cluster unavailable.

                Example:
                  orchestrator cluster promote 4
                """
        )

        @Argument(help: "The learner's node id.")
        var id: UInt64

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient(retry: RetryPolicy.none) { client in
                let reply = try await client.call(.promoteMember(id: id))
                options.emit(reply) { "promoted node \(id) to voter\n" + ClusterCommand.describe($0) }
            }
        }
    }

    /// `orchestrator cluster remove ID`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a node from the cluster.",
            discussion: """
                Refused (would_lose_quorum) when the voters left that the leader heard from \
                recently would not be a quorum of them: remove a voter that is down before one \
                that is up.

                Exit status: 0 removed, 1 rejected, 3 cluster unavailable.

                Example:
                  orchestrator cluster remove 2
                """
        )

        @Argument(help: "The node's id.")
        var id: UInt64

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient(retry: RetryPolicy.none) { client in
                let reply = try await client.call(.removeMember(id: id))
                options.emit(reply) { "removed node \(id)\n" + ClusterCommand.describe($0) }
            }
        }
    }

    /// `orchestrator cluster transfer-leader ID`
    struct TransferLeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer-leader",
            abstract: "Hand leadership to another voter.",
            discussion: """
                Exit status: 0 transferred, 1 rejected, 3 cluster unavailable.

                Example:
                  orchestrator cluster transfer-leader 3
                """
        )

        @Argument(help: "The voter to become leader.")
        var id: UInt64

        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await options.withClient(retry: RetryPolicy.none) { client in
                let reply = try await client.call(.transferLeader(to: id))
                options.emit(reply) { "leadership transferred to node \(id)\n" + ClusterCommand.describe($0) }
            }
        }
    }
}
