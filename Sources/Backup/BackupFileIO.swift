#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `BackupReader` reads from: a whole file in memory, or a file on disk.
protocol ByteSource {
    /// The source's length in bytes.
    var size: UInt64 { get }
    /// Exactly `count` bytes at `offset` (which the reader has checked lie within `size`).
    func read(at offset: UInt64, count: Int) throws(BackupFileError) -> [UInt8]
}

struct BytesSource: ByteSource {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var size: UInt64 { UInt64(bytes.count) }

    func read(at offset: UInt64, count: Int) throws(BackupFileError) -> [UInt8] {
        let start = Int(offset)
        precondition(start + count <= bytes.count, "reading past the end of a checked length")
        return Array(bytes[start..<start + count])
    }
}

private func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}

/// A file opened for reading; its size is taken once, when it is opened.
final class FileSource: ByteSource {
    let path: String
    let size: UInt64
    private let fd: Int32

    init(path: String) throws(BackupFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, reason: errnoText(errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .io(operation: "stat", path: path, reason: errnoText(code))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io(operation: "read", path: path, reason: "not a regular file")
        }
        self.fd = fd
        self.path = path
        self.size = UInt64(info.st_size)
    }

    deinit { close(fd) }

    func read(at offset: UInt64, count: Int) throws(BackupFileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, reason: errnoText(errno))
            }
            if n == 0 { throw .io(operation: "read", path: path, reason: "the file shrank while it was being read") }
            done += n
        }
        return bytes
    }
}

/// A file written the safe way (`snapshot save`): bytes go to `<path>.part`, which is then
/// fsynced, renamed over `path` and its directory fsynced, so `path` is either the old file or
/// the whole new one, also after a crash. Created with mode 0600: a backup holds every
/// instance's data.
///
/// ```swift
/// let file = try PartFile(path: "backup.snap")
/// try file.append(bytes)
/// try file.sync()
/// _ = try BackupReader.verify(path: file.partPath)    // read back before it counts
/// try file.commit()
/// ```
public final class PartFile {
    /// Where the file ends up.
    public let path: String
    /// Where it is written first.
    public let partPath: String
    private var fd: Int32
    /// Bytes written so far.
    public private(set) var byteCount: UInt64 = 0

    /// Creates (or empties) `<path>.part`.
    public init(path: String) throws(BackupFileError) {
        self.path = path
        partPath = path + ".part"
        fd = open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "create", path: partPath, reason: errnoText(errno)) }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(BackupFileError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: partPath, reason: errnoText(errno))
            }
            done += n
        }
        byteCount += UInt64(bytes.count)
    }

    /// Empties the file again (a download that starts over).
    public func reset() throws(BackupFileError) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw .io(operation: "truncate", path: partPath, reason: errnoText(errno))
        }
        byteCount = 0
    }

    /// Makes what was written durable (still under `partPath`).
    public func sync() throws(BackupFileError) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fsync", path: partPath, reason: errnoText(errno))
        }
    }

    /// Syncs, closes and renames `partPath` over `path`, then syncs the directory.
    public func commit() throws(BackupFileError) {
        try sync()
        close(fd)
        fd = -1
        guard rename(partPath, path) == 0 else { throw .io(operation: "rename", path: partPath, reason: errnoText(errno)) }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dir = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw .io(operation: "open", path: directory, reason: errnoText(errno)) }
        defer { close(dir) }
        guard fsync(dir) == 0 else { throw .io(operation: "fsync", path: directory, reason: errnoText(errno)) }
    }

    /// Closes and deletes `partPath` (after a failure); `path` is left as it was.
    public func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(partPath)
    }
}
