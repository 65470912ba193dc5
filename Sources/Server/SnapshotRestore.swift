import Cluster
import Engine
import Foundation
import Raft
import RaftStorage

/// `orchestrator snapshot restore`: builds the data directory of a node of a NEW cluster that
/// starts from a backup's engine state — the etcd `snapshot restore` model. The directory gets
/// the identity of `config` (its cluster id and node id) and a Raft log that holds nothing
/// but a snapshot at the backup's index: its state machine data is the backup's engine state,
/// its membership the voters of `config` (this node and its `--peer`s), its address book their
/// addresses. `orchestrator serve` with the same data directory, cluster id and node id then
/// starts with the restored instances and histories and goes on from the next index.
///
/// ```swift
/// var config = ServerConfig()
/// config.dataDirectory = "data/restored"; config.clusterID = "prod-2"
/// let restored = try SnapshotRestore.restore(
///     SnapshotRestore.Source(engineSnapshot: body, index: 42, term: 3, workflows: 1, instances: 5, historyEntries: 12),
///     into: config)
/// ```
public enum SnapshotRestore {
    /// The state to restore and what its backup says about it (checked before anything is written).
    public struct Source: Sendable {
        /// The engine snapshot (`EngineState.snapshot()`).
        public var engineSnapshot: [UInt8]
        /// The log index the snapshot was taken at.
        public var index: UInt64
        /// The term it was taken in.
        public var term: UInt64
        public var workflows: Int
        public var instances: Int
        public var historyEntries: Int

        public init(engineSnapshot: [UInt8], index: UInt64, term: UInt64, workflows: Int, instances: Int, historyEntries: Int) {
            self.engineSnapshot = engineSnapshot
            self.index = index
            self.term = term
            self.workflows = workflows
            self.instances = instances
            self.historyEntries = historyEntries
        }
    }

    /// What the new directory holds.
    public struct Restored: Sendable, Hashable {
        /// The snapshot's index and term in the new log.
        public var index: UInt64
        public var term: UInt64
        /// The new cluster's voters.
        public var voters: [UInt64]
        public var workflows: Int
        public var instances: Int
        public var historyEntries: Int
    }

    /// Builds `config.dataDirectory`, which must not exist or be empty. It is built beside its
    /// final place and renamed into it at the end, so a failed or interrupted restore leaves
    /// no half-made data directory behind. Every problem is one ``ConfigError`` line.
    public static func restore(_ source: Source, into config: ServerConfig) throws(ConfigError) -> Restored {
        try config.validate()
        guard !config.inMemory, !config.join else { throw ConfigError("a restore needs a data directory (not --in-memory or --join)") }
        let target = config.dataDirectory.count > 1 && config.dataDirectory.hasSuffix("/")
            ? String(config.dataDirectory.dropLast()) : config.dataDirectory
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let targetExists = fm.fileExists(atPath: target, isDirectory: &isDirectory)
        if targetExists {
            guard isDirectory.boolValue else { throw ConfigError("data directory \(target) is a file, not a directory") }
            let contents = (try? fm.contentsOfDirectory(atPath: target)) ?? ["?"]
            guard contents.isEmpty else {
                let shown = contents.sorted().prefix(3).joined(separator: ", ") + (contents.count > 3 ? ", …" : "")
                throw ConfigError("data directory \(target) is not empty (it holds \(shown)); restore into a new or empty directory")
            }
        }

        // Check the state before writing anything: it must decode and be what the backup says.
        let state: EngineState
        do {
            state = try EngineState(restoring: source.engineSnapshot)
        } catch {
            throw ConfigError("the snapshot's engine state cannot be restored: \(error)")
        }
        guard state.appliedIndex == source.index else {
            throw ConfigError("the engine state is at index \(state.appliedIndex) but the file's metadata says \(source.index)")
        }
        let found = (state.workflowCount, state.instanceCount, state.historyEntryCount)
        guard found == (source.workflows, source.instances, source.historyEntries) else {
            throw ConfigError("the engine state holds \(found.0) workflows, \(found.1) instances and \(found.2) history entries, "
                              + "but the file's metadata says \(source.workflows), \(source.instances) and \(source.historyEntries)")
        }

        // A snapshot at index 0 (a cluster that never applied a command) is not a snapshot to
        // Raft: start the log after index 1 instead. The engine skips nothing (it accepts any
        // index above its own) and Raft needs a term of at least 1 under a snapshot.
        let index = max(1, source.index)
        let term = max(1, source.term)
        let addresses = config.initialAddresses
        let parent = (target as NSString).deletingLastPathComponent
        let building = ((parent.isEmpty ? "." : parent) as NSString)
            .appendingPathComponent(".\((target as NSString).lastPathComponent).restoring-\(UUID().uuidString.prefix(8).lowercased())")
        do throws(ConfigError) {
            let directory = DataDirectory(path: building)
            try directory.prepare(clusterID: config.clusterID, nodeID: config.nodeID)
            try sync(path: directory.identityPath)
            let store: FileLogStore
            do {
                store = try FileLogStore.open(directory: directory.raftPath)
            } catch {
                throw ConfigError("cannot create the log in \(directory.raftPath): \(error)")
            }
            do {
                let persistence = try FilePersistence(store: store)
                try persistence.seed(index: index, term: term, voters: Set(addresses.keys), addresses: addresses,
                                     application: source.engineSnapshot)
                persistence.close()
            } catch {
                store.close()
                throw ConfigError("cannot write the snapshot into \(directory.raftPath): \(error)")
            }
            try sync(path: building)
            if targetExists {
                guard rmdir(target) == 0 else { throw ConfigError("cannot replace the empty directory \(target): \(String(cString: strerror(errno)))") }
            }
            guard rename(building, target) == 0 else {
                throw ConfigError("cannot move the restored directory into \(target): \(String(cString: strerror(errno)))")
            }
            try sync(path: parent.isEmpty ? "." : parent)
        } catch {
            try? fm.removeItem(atPath: building)
            throw error
        }
        return Restored(index: index, term: term, voters: addresses.keys.sorted(), workflows: found.0, instances: found.1,
                        historyEntries: found.2)
    }

    /// fsync of a file or directory, so the restore survives a crash once it has returned.
    private static func sync(path: String) throws(ConfigError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ConfigError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
