import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `orchestrator certs init` and `certs node` write, and how: keys with mode 0600,
/// certificates 0644, never over an existing file unless forced — all files are checked
/// before the first is written, so a refusal leaves nothing half-done.
///
/// ```swift
/// let written = try CertificateFiles.initCluster(directory: "certs", nodes: 3, hosts: ["127.0.0.1", "localhost"],
///                                                days: 825, force: false)
/// ```
public enum CertificateFiles {
    /// Hosts a node certificate names when none are given.
    public static let defaultHosts = ["127.0.0.1", "localhost"]
    /// Default validity of node certificates (about 27 months, the longest browsers accept).
    public static let defaultNodeDays = 825
    /// Default validity of the CA.
    public static let defaultCADays = 3_650

    public static func caCertificatePath(in directory: String) -> String { "\(directory)/ca.pem" }
    public static func caKeyPath(in directory: String) -> String { "\(directory)/ca-key.pem" }
    public static func nodeCertificatePath(in directory: String, id: UInt64) -> String { "\(directory)/node-\(id).pem" }
    public static func nodeKeyPath(in directory: String, id: UInt64) -> String { "\(directory)/node-\(id)-key.pem" }

    /// A new CA and certificates for nodes 1...`nodes` in `directory` (created if missing).
    /// Returns the paths written, in order.
    public static func initCluster(directory: String, nodes: Int, hosts: [String], days: Int,
                                   caDays: Int = defaultCADays, force: Bool) throws -> [String] {
        precondition(nodes >= 1, "at least one node")
        let ids = (1...nodes).map { UInt64($0) }
        var planned = [caCertificatePath(in: directory), caKeyPath(in: directory)]
        for id in ids { planned += [nodeCertificatePath(in: directory, id: id), nodeKeyPath(in: directory, id: id)] }
        try prepare(directory: directory, files: planned, force: force)
        let ca = try ClusterCA.create(days: max(caDays, days))
        try write(try ca.certificatePEM, to: planned[0], mode: 0o644)
        try write(ca.privateKeyPEM, to: planned[1], mode: 0o600)
        for id in ids {
            let issued = try ca.issueNode(id: id, hosts: hosts, days: days)
            try write(issued.certificatePEM, to: nodeCertificatePath(in: directory, id: id), mode: 0o644)
            try write(issued.privateKeyPEM, to: nodeKeyPath(in: directory, id: id), mode: 0o600)
        }
        return planned
    }

    /// One more node certificate from the CA in `caDirectory`, written to `directory`
    /// (default: the CA's directory). Returns the paths written.
    public static func issueNode(caDirectory: String, directory: String? = nil, nodeID: UInt64, hosts: [String], days: Int,
                                 force: Bool) throws -> [String] {
        let ca = try ClusterCA.load(certificate: TLSFile(caCertificatePath(in: caDirectory), setting: "--ca-dir"),
                                    key: TLSFile(caKeyPath(in: caDirectory), setting: "--ca-dir"))
        let out = directory ?? caDirectory
        let planned = [nodeCertificatePath(in: out, id: nodeID), nodeKeyPath(in: out, id: nodeID)]
        try prepare(directory: out, files: planned, force: force)
        let issued = try ca.issueNode(id: nodeID, hosts: hosts, days: days)
        try write(issued.certificatePEM, to: planned[0], mode: 0o644)
        try write(issued.privateKeyPEM, to: planned[1], mode: 0o600)
        return planned
    }

    /// Creates `directory` and refuses when any of `files` exists (unless `force`).
    static func prepare(directory: String, files: [String], force: Bool) throws(CertificateFilesError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CertificateFilesError("\(directory) exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CertificateFilesError("cannot create the directory \(directory): \(error.localizedDescription)")
            }
        }
        let existing = files.filter { FileManager.default.fileExists(atPath: $0) }
        if !existing.isEmpty, !force {
            throw CertificateFilesError("\(existing.joined(separator: ", ")) already exist\(existing.count == 1 ? "s" : ""); "
                                        + "nothing was written (use --force to replace them)")
        }
    }

    /// Writes `text` to `path` with `mode` (also when the file existed: a key never stays readable to others).
    static func write(_ text: String, to path: String, mode: mode_t) throws(CertificateFilesError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CertificateFilesError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw CertificateFilesError("cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else {
                if written < 0 && errno == EINTR { continue }
                throw CertificateFilesError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw CertificateFilesError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// Why certificate files could not be written, in one line.
public struct CertificateFilesError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
