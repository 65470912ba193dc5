import Foundation
import Raft

/// A node's data directory: `identity` (which cluster and node it belongs to) and `raft/`
/// (the write-ahead log and snapshots).
struct DataDirectory {
    let path: String

    var raftPath: String { (path as NSString).appendingPathComponent("raft") }
    var identityPath: String { (path as NSString).appendingPathComponent("identity") }

    /// Creates the directory if needed and checks that it belongs to this cluster and
    /// node. A directory of another cluster or node is refused: starting from it would
    /// mix two clusters' logs.
    func prepare(clusterID: String, nodeID: NodeID) throws(ConfigError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigError("data directory \(path) is a file, not a directory") }
        } else {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw ConfigError("cannot create data directory \(path): \(error.localizedDescription)")
            }
        }
        guard fm.isWritableFile(atPath: path), fm.isReadableFile(atPath: path) else {
            throw ConfigError("data directory \(path) is not readable and writable by this user")
        }
        let expected = "cluster=\(clusterID)\nnode=\(nodeID)\n"
        if let data = fm.contents(atPath: identityPath) {
            let found = String(decoding: data, as: UTF8.self)
            guard found == expected else {
                let summary = found.split(separator: "\n").joined(separator: ", ")
                throw ConfigError("data directory \(path) belongs to \(summary), not cluster=\(clusterID), node=\(nodeID); use another --data-dir")
            }
        } else if fm.fileExists(atPath: identityPath) {
            throw ConfigError("cannot read \(identityPath)")
        } else {
            if fm.fileExists(atPath: raftPath) {
                throw ConfigError("data directory \(path) holds a raft log but no identity file; refusing to guess which cluster it belongs to")
            }
            guard fm.createFile(atPath: identityPath, contents: Data(expected.utf8)) else {
                throw ConfigError("cannot write \(identityPath)")
            }
        }
    }
}
