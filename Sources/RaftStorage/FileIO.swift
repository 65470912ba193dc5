#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
}

/// An open file descriptor with the few operations the WAL needs, retrying EINTR and
/// short transfers, throwing `StorageError.io` that names the path.
final class FileDescriptor {
    let fd: Int32
    let path: String
    private var isOpen = true

    init(path: String, flags: Int32, mode: mode_t = 0o644) throws {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StorageError.io(operation: "open", path: path, errno: errno) }
        self.fd = fd
        self.path = path
    }

    /// Takes over `fd`, an open descriptor of the file now at `path` (closed by this object).
    init(adopting fd: Int32, path: String) {
        precondition(fd >= 0, "adopting an invalid file descriptor")
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    func close() {
        if isOpen {
            isOpen = false
            _ = Glibc.close(fd)
        }
    }

    /// Hands the descriptor over to the caller, who closes it; this object no longer will.
    func release() -> Int32 {
        precondition(isOpen, "releasing a closed file descriptor")
        isOpen = false
        return fd
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "pwrite", path: path, errno: errno)
            }
            done += n
        }
    }

    func writeAll(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try writeAll($0, at: offset) }
    }

    /// Reads until `buffer` is full or end of file; returns the bytes read.
    func readAll(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "pread", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func readAll(count: Int, at offset: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withUnsafeMutableBytes { try readAll(into: $0, at: offset) }
        if n < count { bytes.removeLast(count - n) }
        return bytes
    }

    func dataSync() throws {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw StorageError.io(operation: "fdatasync", path: path, errno: errno)
        }
    }

    func fullSync() throws {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw StorageError.io(operation: "fsync", path: path, errno: errno)
        }
    }

    func truncate(to size: UInt64) throws {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw StorageError.io(operation: "ftruncate", path: path, errno: errno)
        }
    }

    /// Reserves `size` bytes on disk. Returns false where the file system cannot
    /// (preallocation is only an optimisation).
    func preallocate(size: UInt64) throws -> Bool {
        let rc = posix_fallocate(fd, 0, off_t(size))
        if rc == 0 { return true }
        if rc == EOPNOTSUPP || rc == EINVAL { return false }
        throw StorageError.io(operation: "posix_fallocate", path: path, errno: rc)
    }

    func size() throws -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.io(operation: "fstat", path: path, errno: errno) }
        return UInt64(info.st_size)
    }

    /// Starts reading `path` into the page cache in the background (best effort).
    static func adviseWillNeed(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_WILLNEED))
        _ = Glibc.close(fd)
    }
}

/// Directory operations, each throwing `StorageError.io` naming the path.
enum FileSystem {
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Creates `path` if missing; a new directory's entry in its parent is made durable.
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 {
            var parent = String(path.reversed().drop { $0 == "/" }.drop { $0 != "/" }.reversed())
            if parent.isEmpty { parent = "." }
            try syncDirectory(parent)
        } else if errno != EEXIST {
            throw StorageError.io(operation: "mkdir", path: path, errno: errno)
        }
    }

    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw StorageError.io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Makes creations, renames and deletions in `path` durable.
    static func syncDirectory(_ path: String) throws {
        let dir = try FileDescriptor(path: path, flags: O_RDONLY | O_DIRECTORY)
        try dir.fullSync()
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw StorageError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    static func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw StorageError.io(operation: "rename to \(to)", path: from, errno: errno)
        }
    }
}

/// An exclusive advisory lock on `<directory>/LOCK`, held while the store is open, so two
/// processes never write the same log.
final class DirectoryLock {
    private let file: FileDescriptor
    private var held = true

    init(directory: String) throws {
        let path = FileSystem.join(directory, "LOCK")
        file = try FileDescriptor(path: path, flags: O_RDWR | O_CREAT)
        if flock(file.fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { throw StorageError.locked(path: path) }
            throw StorageError.io(operation: "flock", path: path, errno: errno)
        }
    }

    func release() {
        guard held else { return }
        held = false
        _ = flock(file.fd, LOCK_UN)
        file.close()
    }
}
