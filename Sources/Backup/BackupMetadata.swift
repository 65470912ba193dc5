import JSON

/// What a backup file says about the state it holds: where in the log it was taken, by which
/// cluster and node, the members then, and counts to check a restore against. Written as one
/// JSON object with sorted keys (docs/operations.md, "Backup and restore"):
///
/// ```json
/// {"cluster_id":"prod","created_at":"2026-05-01T03:00:00.000Z","created_at_ms":1777604400000,
///  "history_entries":12,"index":42,"instances":5,
///  "members":[{"api":"http://127.0.0.1:8081","id":1,"raft":"127.0.0.1:7081","role":"voter"}],
///  "node":1,"server_version":"0.1.0","term":3,"workflows":1}
/// ```
public struct BackupMetadata: Sendable, Hashable {
    /// One member of the cluster when the snapshot was taken.
    public struct Member: Sendable, Hashable {
        public var id: UInt64
        /// Its Raft address, `host:port`.
        public var raft: String
        /// Its HTTP API, `http://host:port`.
        public var api: String
        /// `voter` or `learner`.
        public var role: String

        public init(id: UInt64, raft: String, api: String, role: String) {
            self.id = id
            self.raft = raft
            self.api = api
            self.role = role
        }
    }

    /// The cluster the snapshot was taken from.
    public var clusterID: String
    /// The log index of the last entry the engine state includes.
    public var index: UInt64
    /// The leader's term when the snapshot was taken (at least the term of the entry at `index`).
    public var term: UInt64
    /// The node that took it (the leader then).
    public var node: UInt64
    /// The members then, by id.
    public var members: [Member]
    /// Registered workflows (by name).
    public var workflows: Int
    /// Instances held (running and finished, not yet purged).
    public var instances: Int
    /// History entries retained, over all instances.
    public var historyEntries: Int
    /// When it was taken, ms since the Unix epoch, by the leader's clock.
    public var createdAtMillis: Int64
    /// The version of the server that took it.
    public var serverVersion: String

    public init(clusterID: String, index: UInt64, term: UInt64, node: UInt64, members: [Member], workflows: Int,
                instances: Int, historyEntries: Int, createdAtMillis: Int64, serverVersion: String) {
        self.clusterID = clusterID
        self.index = index
        self.term = term
        self.node = node
        self.members = members.sorted { $0.id < $1.id }
        self.workflows = workflows
        self.instances = instances
        self.historyEntries = historyEntries
        self.createdAtMillis = createdAtMillis
        self.serverVersion = serverVersion
    }

    /// The metadata as a JSON object (what the file holds, and `snapshot inspect --json` shows).
    public var json: JSONValue {
        .object([
            "cluster_id": .string(clusterID),
            "index": .number(Double(index)),
            "term": .number(Double(term)),
            "node": .number(Double(node)),
            "members": .array(members.map { member in
                .object(["id": .number(Double(member.id)), "raft": .string(member.raft), "api": .string(member.api),
                         "role": .string(member.role)])
            }),
            "workflows": .number(Double(workflows)),
            "instances": .number(Double(instances)),
            "history_entries": .number(Double(historyEntries)),
            "created_at_ms": .number(Double(createdAtMillis)),
            "created_at": .string(Timestamp.rfc3339(millis: createdAtMillis)),
            "server_version": .string(serverVersion),
        ])
    }

    /// The metadata's bytes in a file: the JSON object, keys sorted.
    var encoded: [UInt8] { JSONWriter.bytes(json) }

    /// Reads the metadata of a file whose checksum matched. Keys this build does not know are
    /// ignored (a later writer may add some without a new format version).
    init(decoding bytes: ArraySlice<UInt8>) throws(BackupFileError) {
        let object: [String: JSONValue]
        do {
            object = try JSONBody.parseObject(Array(bytes))
        } catch {
            throw .badMetadata("not a JSON object: \(error)")
        }
        func string(_ key: String, in object: [String: JSONValue]) throws(BackupFileError) -> String {
            guard case .string(let value)? = object[key] else { throw .badMetadata("'\(key)' is missing or not a string") }
            return value
        }
        func integer(_ key: String, in object: [String: JSONValue]) throws(BackupFileError) -> Int64 {
            guard case .number(let value)? = object[key], value.rounded() == value, abs(value) <= 9_007_199_254_740_991 else {
                throw .badMetadata("'\(key)' is missing or not an integer")
            }
            return Int64(value)
        }
        func count(_ key: String, in object: [String: JSONValue]) throws(BackupFileError) -> UInt64 {
            let value = try integer(key, in: object)
            guard value >= 0 else { throw .badMetadata("'\(key)' is negative") }
            return UInt64(value)
        }
        guard case .array(let list)? = object["members"] else { throw .badMetadata("'members' is missing or not a list") }
        var members: [Member] = []
        for item in list {
            guard case .object(let fields) = item else { throw .badMetadata("a member is not an object") }
            members.append(Member(id: try count("id", in: fields), raft: try string("raft", in: fields),
                                  api: try string("api", in: fields), role: try string("role", in: fields)))
        }
        self.init(clusterID: try string("cluster_id", in: object), index: try count("index", in: object),
                  term: try count("term", in: object), node: try count("node", in: object), members: members,
                  workflows: Int(try count("workflows", in: object)), instances: Int(try count("instances", in: object)),
                  historyEntries: Int(try count("history_entries", in: object)),
                  createdAtMillis: try integer("created_at_ms", in: object),
                  serverVersion: try string("server_version", in: object))
    }
}
