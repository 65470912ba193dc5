#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system questions discovery and the runner ask, answered with POSIX calls so
/// that symlinks, permissions and file types mean exactly what the kernel means by them.
enum PluginFiles {
    /// What a path names, after following symlinks.
    enum FileType: Equatable {
        case missing
        case regularFile
        case directory
        case other
    }

    /// The canonical absolute path (symlinks, `.` and `..` resolved), or nil when some
    /// component does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// True when `path` is `root` or lies below it. Both must already be canonical
    /// (`realPath`), so a prefix test on whole components is exact.
    static func isInside(_ path: String, root: String) -> Bool {
        if path == root { return true }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix)
    }

    /// The type of what `path` names, following symlinks.
    static func type(of path: String) -> FileType {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// True when `path` itself (not what it points to) is a symbolic link.
    static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// True when something (even a dangling symlink) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// True when this process may execute `path` (for root: some execute bit is set).
    static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// The names in `directory`, sorted, without `.` and `..`; nil when it cannot be listed.
    static func entries(of directory: String) -> [String]? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Why a file could not be read, for a message.
    struct ReadError: Error {
        var message: String
    }

    /// The whole file, or why not: it cannot be opened or read, or it is longer than `bytesMax`.
    static func read(_ path: String, bytesMax: Int) -> Result<[UInt8], ReadError> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(ReadError(message: "cannot be read: \(lastErrorText)")) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(message: "cannot be read: \(lastErrorText)"))
            }
            if count == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > bytesMax {
                return .failure(ReadError(message: "is over \(bytesMax) bytes; a manifest is a few lines"))
            }
        }
    }

    /// `read(2)`, which `read(_:bytesMax:)` hides by its name.
    private static func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(descriptor, buffer, count)
        #else
        return Darwin.read(descriptor, buffer, count)
        #endif
    }

    /// True when the file starts with `#!`: a script, whose interpreter may be what is missing.
    static func startsWithInterpreterLine(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var head: [UInt8] = [0, 0]
        let count = head.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, 2) }
        return count == 2 && head == [UInt8(ascii: "#"), UInt8(ascii: "!")]
    }

    /// `directory/name` without doubling the slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The text of `code`, e.g. "Permission denied".
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The text of the calling thread's `errno`; read it right after the call that failed.
    static var lastErrorText: String { errorText(errno) }
}
