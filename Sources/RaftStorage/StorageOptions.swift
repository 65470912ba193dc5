/// Limits and tuning of a log store. Every field has a documented default; see
/// docs/storage.md ("Limits").
public struct StorageOptions: Sendable, Equatable {
    /// Default `segmentBytes`: 64 MiB.
    public static let defaultSegmentBytes = 64 << 20
    /// Default `cacheBytesMax`: 16 MiB of recent entries kept in memory.
    public static let defaultCacheBytesMax = 16 << 20
    /// Default `snapshotsRetained`.
    public static let defaultSnapshotsRetained = 2
    /// Default `entryPayloadBytesMax`: 16 MiB.
    public static let defaultEntryPayloadBytesMax = 16 << 20
    /// Default `saveBytesMax`: 256 MiB encoded per `save`.
    public static let defaultSaveBytesMax = 256 << 20
    /// Default `snapshotBytesMax`: 4 GiB.
    public static let defaultSnapshotBytesMax = 4 << 30
    /// Default `snapshotConfigurationBytesMax`: 1 MiB.
    public static let defaultSnapshotConfigurationBytesMax = 1 << 20

    /// A segment is sealed and a new one started once the active one holds at least this
    /// many bytes (checked before each save, so one save never spans two segments).
    public var segmentBytes: Int
    /// Reserve `segmentBytes` on disk when a segment is created (`posix_fallocate`), so
    /// appends do not grow the file. Recovery treats the zero-filled tail as free space.
    public var preallocateSegments: Bool
    /// Bytes of recent entries (payload + 17) kept in memory so the leader rarely reads
    /// the disk. 0 disables the cache.
    public var cacheBytesMax: Int
    /// How many snapshot files to keep (the newest ones). At least 1.
    public var snapshotsRetained: Int
    /// Largest entry payload accepted by `save` and believed during recovery.
    public var entryPayloadBytesMax: Int
    /// Largest encoded size of one `save` (entries plus hard state).
    public var saveBytesMax: Int
    /// Largest snapshot data accepted and read back.
    public var snapshotBytesMax: Int
    /// Largest snapshot configuration (membership) accepted and read back.
    public var snapshotConfigurationBytesMax: Int

    public init(
        segmentBytes: Int = StorageOptions.defaultSegmentBytes,
        preallocateSegments: Bool = true,
        cacheBytesMax: Int = StorageOptions.defaultCacheBytesMax,
        snapshotsRetained: Int = StorageOptions.defaultSnapshotsRetained,
        entryPayloadBytesMax: Int = StorageOptions.defaultEntryPayloadBytesMax,
        saveBytesMax: Int = StorageOptions.defaultSaveBytesMax,
        snapshotBytesMax: Int = StorageOptions.defaultSnapshotBytesMax,
        snapshotConfigurationBytesMax: Int = StorageOptions.defaultSnapshotConfigurationBytesMax
    ) {
        self.segmentBytes = segmentBytes
        self.preallocateSegments = preallocateSegments
        self.cacheBytesMax = cacheBytesMax
        self.snapshotsRetained = snapshotsRetained
        self.entryPayloadBytesMax = entryPayloadBytesMax
        self.saveBytesMax = saveBytesMax
        self.snapshotBytesMax = snapshotBytesMax
        self.snapshotConfigurationBytesMax = snapshotConfigurationBytesMax
        validate()
    }

    /// Stops on nonsensical limits (the fields are settable, so stores check again).
    func validate() {
        precondition(segmentBytes >= 4096, "segmentBytes must be at least 4096")
        precondition(cacheBytesMax >= 0, "cacheBytesMax must not be negative")
        precondition(snapshotsRetained >= 1, "snapshotsRetained must be at least 1")
        precondition(entryPayloadBytesMax > 0 && entryPayloadBytesMax <= Int(UInt32.max) - 64, "entryPayloadBytesMax out of range")
        precondition(saveBytesMax > 0, "saveBytesMax must be positive")
        precondition(snapshotBytesMax >= 0 && snapshotConfigurationBytesMax >= 0, "snapshot limits must not be negative")
    }
}
