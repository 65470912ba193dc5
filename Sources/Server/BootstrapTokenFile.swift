import APIModels
import Foundation

/// The bootstrap admin token of `serve --bootstrap-token-file FILE` (as `nomad acl bootstrap`
/// takes its secret from a file): never a flag, so it does not show in `ps`.
///
/// The file holds one token, `orch_<id>_<secret>`. When it does not exist, the node makes a
/// fresh token and writes it there, readable by its owner only (mode 0600) — give that same
/// file to every node of a new cluster. Only its digest ever leaves the node.
public enum BootstrapTokenFile {
    /// The token in `path`, made and written first when the file does not exist. Throws a
    /// one-line `ConfigError` naming the file and what is wrong with it.
    public static func load(_ path: String) throws(ConfigError) -> (token: APIToken, created: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError("--bootstrap-token-file \(path): cannot read it")
            }
            guard let token = APIToken(parsing: String(decoding: data, as: UTF8.self)) else {
                throw ConfigError("--bootstrap-token-file \(path): it does not hold a token (one line: orch_<12 hex digits>_<64 hex digits>); "
                    + "remove it to have a fresh one made")
            }
            return (token, false)
        }
        // Written whole to a private temporary file, then linked into place: link(2) fails if
        // the file appeared meanwhile (nodes of a new cluster started together), and no
        // reader ever sees a half-written token.
        let token = APIToken.generate()
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigError("--bootstrap-token-file \(path): cannot create it: \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let bytes = Array((token.text + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            throw ConfigError("--bootstrap-token-file \(path): cannot write it: \(String(cString: strerror(errno)))")
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return try load(path) }
            throw ConfigError("--bootstrap-token-file \(path): cannot create it: \(String(cString: strerror(errno)))")
        }
        return (token, true)
    }

    /// True when others than the owner may read `path` (a token file should be 0600).
    public static func isReadableByOthers(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & 0o077 != 0
    }
}
