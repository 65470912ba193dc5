import Workflow

/// Read-only queries. They see the state as of `appliedIndex`; the API makes them
/// linearizable by waiting for `Consensus.readBarrier()` first.
extension EngineState {
    /// Most instances one `instances(…)` call examines before returning a (possibly short)
    /// page with a cursor, so a filtered listing of a huge engine stays quick.
    public static let listScanMax = 100_000

    /// The instance with `id`, if any.
    public func instance(id: String) -> Instance? {
        instances[id]
    }

    /// Instances in start order, optionally only those of `workflow`, in `state`, whose id
    /// starts with `idPrefix`, and/or last updated at or after `updatedSinceMillis`.
    ///
    /// Paging: pass the previous page's `nextCursor` as `after` (the start index of the
    /// last instance returned; the order never changes, as instances are only appended).
    /// A page has at most `limit` (≤ `EngineLimits.pageSizeMax`) instances; it may have fewer
    /// with a cursor when `listScanMax` instances were examined; `nextCursor` is nil at the end.
    ///
    /// ```swift
    /// var page = state.instances(workflow: "order", state: "paid", limit: 100)
    /// while let next = page.nextCursor { page = state.instances(workflow: "order", state: "paid", after: next) }
    /// ```
    public func instances(workflow: String? = nil, state: String? = nil, final: Bool? = nil, idPrefix: String? = nil,
                          updatedSinceMillis: Int64? = nil, after cursor: UInt64? = nil, limit: Int = 100) -> InstancePage {
        let limit = min(max(limit, 1), EngineLimits.pageSizeMax)
        var position = 0
        if let cursor {
            // First entry with createdIndex > cursor.
            var low = 0
            var high = order.count
            while low < high {
                let middle = (low + high) / 2
                if order[middle].createdIndex <= cursor { low = middle + 1 } else { high = middle }
            }
            position = low
        }
        var found: [Instance] = []
        var scanned = 0
        while position < order.count, found.count < limit, scanned < EngineState.listScanMax {
            let entry = order[position]
            position += 1
            scanned += 1
            guard let instance = instances[entry.id], instance.createdIndex == entry.createdIndex else { continue }
            if let workflow, instance.workflow != workflow { continue }
            if let state, instance.state != state { continue }
            if let final, instance.isFinal != final { continue }
            if let idPrefix, !instance.id.hasPrefix(idPrefix) { continue }
            if let updatedSinceMillis, instance.updatedAtMillis < updatedSinceMillis { continue }
            found.append(instance)
        }
        let next = position < order.count ? order[position - 1].createdIndex : nil
        return InstancePage(instances: found, nextCursor: next)
    }

    /// The retained history of instance `id`, oldest first; nil for an unknown instance.
    public func history(of id: String) -> InstanceHistory? {
        histories[id].map { InstanceHistory(entries: $0.entries, droppedCount: $0.dropped) }
    }

    /// One page of instance `id`'s history: entries with a log index above `after`, oldest
    /// first (see `HistoryPage`); nil for an unknown instance.
    public func historyPage(of id: String, after: UInt64?, limit: Int) -> HistoryPage? {
        guard let log = histories[id] else { return nil }
        let (entries, more) = log.page(after: after, limit: limit)
        return HistoryPage(entries: entries, droppedCount: log.dropped, retainedFromIndex: log.first?.index,
                           nextAfter: more ? entries.last?.index : nil)
    }

    /// Every workflow with its versions, sorted by name.
    public func workflowSummaries() -> [WorkflowSummary] {
        workflows.keys.sorted(by: utf8Precedes).map { WorkflowSummary(name: $0, versions: workflows[$0]!.versions) }
    }

    /// The workflow called `name` with its versions, if registered.
    public func workflow(named name: String) -> WorkflowSummary? {
        workflows[name].map { WorkflowSummary(name: name, versions: $0.versions) }
    }

    /// Version `version` of workflow `name` (the latest when nil), if registered.
    public func workflowVersion(_ name: String, version: Int? = nil) -> WorkflowVersion? {
        guard let versions = workflows[name]?.versions else { return nil }
        guard let version else { return versions.last }
        guard version >= 1, version <= versions.count else { return nil }
        return versions[version - 1]
    }

    /// How many instances of each workflow are in each state (states with none omitted).
    public func instanceCounts() -> [String: [String: Int]] {
        stateCounts.compactMapValues { counts in
            let nonZero = counts.filter { $0.value > 0 }
            return nonZero.isEmpty ? nil : nonZero
        }
    }

    /// The number of instances.
    public var instanceCount: Int { instances.count }

    /// The number of registered workflows (by name, not versions).
    public var workflowCount: Int { workflows.count }

    /// History entries retained over every instance (O(instances): for backups and checks,
    /// not for hot paths).
    public var historyEntryCount: Int { histories.values.reduce(0) { $0 + $1.count } }

    /// The number of request ids currently remembered.
    public var requestIDCount: Int { requestLog.count }

    /// The outcome remembered for `requestID`, if it is still retained.
    public func outcome(forRequestID requestID: String) -> Outcome? {
        requestLog[requestID]?.outcome
    }
}

/// Hook dispatches.
extension EngineState {
    /// Every pending dispatch, by instance in start order, each instance's in run order.
    public func pendingDispatches() -> [Dispatch] {
        var result: [Dispatch] = []
        for entry in liveOrder {
            for id in dispatchQueues[entry.id] ?? [] { result.append(dispatches[id]!) }
        }
        return result
    }

    /// The dispatch `id`, while it is pending.
    public func dispatch(id: String) -> Dispatch? {
        dispatches[id]
    }

    /// The dispatch that runs next for `instance` (its queue's first), if any.
    public func nextDispatch(of instance: String) -> Dispatch? {
        dispatchQueues[instance]?.first.flatMap { dispatches[$0] }
    }

    /// The instances with pending dispatches.
    public var instancesWithDispatches: [String] {
        Array(dispatchQueues.keys)
    }

    /// How many dispatches are pending.
    public var pendingDispatchCount: Int { dispatches.count }

    /// The most recent dispatches that failed for good, oldest first.
    public func failedDispatchList() -> [FailedDispatch] {
        failedDispatches
    }
}
