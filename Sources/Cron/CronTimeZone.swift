#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An IANA time zone from the system tz database (TZif files), or the built-in `UTC`.
///
/// ```swift
/// let berlin = try CronTimeZone.named("Europe/Berlin")
/// berlin.offsetSeconds(atMillis: 1_782_000_000_000)   // 7200 (CEST)
/// ```
/// Zones are read once per (directory, name) and cached for the life of the process.
public struct CronTimeZone: Sendable, Hashable {
    /// The name as given, e.g. `Europe/Berlin`.
    public let name: String
    let rules: TZif

    /// Where the system keeps its TZif files.
    public static let defaultDirectory = "/usr/share/zoneinfo"

    /// The built-in zone `UTC` (needs no files).
    public static let utc = CronTimeZone(name: "UTC", rules: TZif(fixedOffsetSeconds: 0))

    init(name: String, rules: TZif) {
        self.name = name
        self.rules = rules
    }

    /// The zone `name` (`UTC`, or a file under `directory`, e.g. `America/New_York`).
    ///
    /// Throws `unknown time zone 'Mars/Base' (no such zone in /usr/share/zoneinfo)` for a
    /// name without a file, and rejects names that could leave the directory (`..`, a
    /// leading `/`).
    public static func named(_ name: String, directory: String = CronTimeZone.defaultDirectory) throws(CronError) -> CronTimeZone {
        if name == "UTC" { return utc }
        let key = directory + "\u{0}" + name
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let zone = try load(name, directory: directory)
        cache.withLock { cache in
            // A bound on the cache: the zones a process meets are a handful; a flood of
            // distinct valid names only empties it.
            if cache.count >= cacheEntriesMax { cache.removeAll() }
            cache[key] = zone
        }
        return zone
    }

    /// The UTC offset in seconds (east positive) in effect at `atMillis` (ms since the epoch).
    public func offsetSeconds(atMillis millis: Int64) -> Int {
        rules.period(at: CivilTime.floorDiv(millis, 1000)).offsetSeconds
    }

    /// The period (offset and bounding transitions) containing `seconds`.
    func period(at seconds: Int64) -> ZonePeriod {
        rules.period(at: seconds)
    }

    /// Only the name identifies a zone: two loads of one name are the same zone.
    public static func == (a: CronTimeZone, b: CronTimeZone) -> Bool { a.name == b.name }

    /// Hashes the name.
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    static let cacheEntriesMax = 1024
    private static let cache = Mutex<[String: CronTimeZone]>([:])

    static func load(_ name: String, directory: String) throws(CronError) -> CronTimeZone {
        let valid = !name.isEmpty && name.utf8.count <= 255 && !name.hasPrefix("/") && !name.contains("..")
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "/_+-.".unicodeScalars.contains($0)) }
        guard valid else {
            throw CronError(message: "time zone name '\(CronError.clipped(name))' is not valid; use an IANA name such as 'Europe/Berlin' or 'UTC'")
        }
        let path = directory + "/" + name
        guard let bytes = readFile(path, bytesMax: TZif.fileBytesMax) else {
            throw CronError(message: "unknown time zone '\(name)' (no such zone in \(directory))")
        }
        do {
            return CronTimeZone(name: name, rules: try TZif(bytes: bytes))
        } catch {
            throw CronError(message: "unknown time zone '\(name)' (\(path) is not a TZif file: \(error.message))")
        }
    }

    /// The whole file, or nil when it cannot be opened, is not a regular file or is too large.
    static func readFile(_ path: String, bytesMax: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= bytesMax else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            filled += n
        }
        return bytes
    }
}
