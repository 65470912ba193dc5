import Workflow

/// A finished instance's place in its workflow's purge queue. Engine time never goes back,
/// so appending as instances finish keeps each queue ordered by finish time.
struct FinishedEntry: Sendable, Hashable {
    var finishedAtMillis: Int64
    var createdIndex: UInt64
    var id: String
}

/// Retention: finished instances are removed, with their history, once their workflow's
/// `retention` (else the cluster default carried in the purge command) has passed since they
/// finished. The leader's retention service finds candidates with `purgeCandidates`; apply
/// decides again from the entry alone, so every replica removes the same instances.
extension EngineState {
    /// The entries of `order` whose instance is still there (purged ones leave a tombstone
    /// until they reach the front or the order is compacted).
    var liveOrder: LazyFilterSequence<ChunkedArray<OrderEntry>> {
        order.lazy.filter { [instances] entry in instances[entry.id]?.createdIndex == entry.createdIndex }
    }

    /// Queues `instance`, which just reached a final state, for retention.
    mutating func trackFinished(_ instance: Instance) {
        finished[instance.workflow, default: ChunkedArray()].append(
            FinishedEntry(finishedAtMillis: instance.updatedAtMillis, createdIndex: instance.createdIndex, id: instance.id))
    }

    /// The retention of `workflow`'s finished instances: its latest version's `retention`,
    /// else `defaultMillis`; nil: kept for good.
    public func retentionMillis(of workflow: String, defaultMillis: Int64?) -> Int64? {
        workflows[workflow]?.versions.last?.definition.retention?.milliseconds ?? defaultMillis
    }

    /// Up to `limit` finished instances whose retention ran out by `nowMillis`, oldest
    /// finished first within each workflow, leaving out those still running hooks.
    public func purgeCandidates(nowMillis: Int64, defaultRetentionMillis: Int64?, limit: Int) -> [String] {
        var found: [String] = []
        for workflow in finished.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let retention = retentionMillis(of: workflow, defaultMillis: defaultRetentionMillis),
                  let queue = finished[workflow] else { continue }
            var scanned = 0
            for entry in queue {
                guard found.count < limit, scanned < EngineState.listScanMax else { break }
                scanned += 1
                guard entry.finishedAtMillis <= nowMillis - retention else { break }
                guard isQueued(entry), dispatchQueues[entry.id]?.isEmpty ?? true else { continue }
                found.append(entry.id)
            }
            if found.count >= limit { break }
        }
        return found
    }

    /// The finished instances of `workflow` waiting for retention (for tests and metrics).
    public func finishedCount(of workflow: String) -> Int {
        finished[workflow]?.lazy.filter { self.isQueued($0) }.count ?? 0
    }

    /// When instance `id` (finished) will be purged, or nil.
    public func purgeAtMillis(of id: String, defaultRetentionMillis: Int64?) -> Int64? {
        guard let instance = instances[id], instance.isFinal,
              let retention = retentionMillis(of: instance.workflow, defaultMillis: defaultRetentionMillis) else { return nil }
        return instance.updatedAtMillis + retention
    }

    private func isQueued(_ entry: FinishedEntry) -> Bool {
        guard let instance = instances[entry.id] else { return false }
        return instance.isFinal && instance.createdIndex == entry.createdIndex
    }

    // MARK: purgeInstances

    mutating func purgeInstances(_ command: PurgeInstances, index: UInt64, effects: inout [Effect]) -> Outcome {
        var purged = 0
        var workflowsTouched: Set<String> = []
        for id in command.ids {
            guard let instance = instances[id], instance.isFinal, dispatchQueues[id]?.isEmpty ?? true,
                  let retention = retentionMillis(of: instance.workflow, defaultMillis: command.defaultRetentionMillis),
                  instance.updatedAtMillis <= clockMillis - retention else { continue }
            remove(instance, effects: &effects)
            workflowsTouched.insert(instance.workflow)
            purged += 1
        }
        for workflow in workflowsTouched { dropPurgedFront(of: workflow) }
        return .instancesPurged(InstancesPurged(purged: purged, kept: command.ids.count - purged, index: index))
    }

    /// Removes an instance and everything kept for it.
    private mutating func remove(_ instance: Instance, effects: inout [Effect]) {
        let id = instance.id
        instances.removeValue(forKey: id)
        if let history = histories.removeValue(forKey: id) { historyEntriesDropped -= min(historyEntriesDropped, history.dropped) }
        if let timer = timers.removeValue(forKey: id) { effects.append(.timerCancelled(instance: id, revision: timer.revision)) }
        dispatchQueues.removeValue(forKey: id)
        if let count = stateCounts[instance.workflow]?[instance.state] {
            stateCounts[instance.workflow]![instance.state] = count > 1 ? count - 1 : nil
        }
        orderTombstones += 1
        while let first = order.first, instances[first.id]?.createdIndex != first.createdIndex {
            order.removeFirst()
            orderTombstones -= 1
        }
        // Long-lived instances ahead of the purged ones: compact once tombstones are half the order.
        if orderTombstones > 1_024, orderTombstones * 2 > order.count {
            order = ChunkedArray(liveOrder)
            orderTombstones = 0
        }
        effects.append(.instancePurged(id: id, workflow: instance.workflow))
    }

    /// Pops purged entries off the front of a workflow's purge queue.
    private mutating func dropPurgedFront(of workflow: String) {
        guard var queue = finished.removeValue(forKey: workflow) else { return }
        while let first = queue.first, !isQueued(first) { queue.removeFirst() }
        if !queue.isEmpty { finished[workflow] = queue }
    }

    /// Rebuilds the purge queues from the instances (after a restore): finished ones by
    /// finish time, then start order.
    mutating func rebuildFinishedQueues() {
        finished = [:]
        let done = instances.values.filter(\.isFinal)
        for instance in done.sorted(by: { ($0.updatedAtMillis, $0.createdIndex) < ($1.updatedAtMillis, $1.createdIndex) }) {
            trackFinished(instance)
        }
    }
}
