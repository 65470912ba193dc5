import Cron
/// Turns a composed YAML document into a `WorkflowDefinition`, reporting every problem.
///
/// Two passes: `read…` functions check shapes and types and collect `Raw…` values with
/// their positions; `resolve` then checks every name reference and the graph, and builds
/// the definition only when no error was found.
struct WorkflowCompiler {
    var sink: DiagnosticSink
    /// Plugin names to check hooks against; nil skips the check.
    let pluginNames: Set<String>?

    init(file: String, pluginNames: Set<String>?) {
        self.sink = DiagnosticSink(file: file)
        self.pluginNames = pluginNames
    }

    // MARK: Raw shapes, with positions

    struct RawHook {
        var context: String
        var plugin: Located<String>?
        var with: [String: JSONValue]
        var timeout: WorkflowDuration?
        var retry: RetryPolicy
        var onSuccess: Located<String>?
        var onFailure: Located<String>?
    }

    struct RawTimeout {
        var after: WorkflowDuration?
        var transition: Located<String>?
    }

    struct RawState {
        var name: Located<String>
        var isFinal: Bool
        var onEnter: [RawHook]
        var onExit: [RawHook]
        var timeout: RawTimeout?
    }

    enum RawSource {
        case any
        case states([Located<String>])
    }

    struct RawTransition {
        var name: Located<String>
        var from: RawSource?
        var to: Located<String>?
        var hooks: [RawHook]
    }

    enum RawAction {
        case transition(Located<String>, whereState: Located<String>?)
        case start([String: JSONValue])
    }

    struct RawTrigger {
        var context: String
        var name: Located<String>?
        var cron: String?
        var timezone: String
        var action: RawAction?
        var concurrency: TriggerConcurrency
        var misfire: TriggerMisfire
        /// `replace_transition`, checked against the transitions in pass 2.
        var replaceTransition: Located<String>?
        var maxCatchup: Int = TriggerDefinition.maxCatchupDefault
    }

    static let topLevelKeys = ["workflow", "description", "initial", "data", "states", "transitions", "triggers", "history", "retention"]
    static let historyKeys = ["max_entries"]
    /// The bounds of `history: { max_entries }`.
    static let historyMaxEntriesRange = 1...100_000
    static let stateKeys = ["final", "on_enter", "on_exit", "timeout"]
    static let transitionKeys = ["from", "to", "hooks"]
    static let hookKeys = ["plugin", "with", "timeout", "retry", "on_success", "on_failure"]
    static let retryKeys = ["attempts", "backoff", "max_backoff"]
    static let timeoutKeys = ["after", "transition"]
    static let triggerKeys = ["name", "cron", "timezone", "transition", "where", "start", "concurrency", "misfire",
                              "replace_transition", "max_catchup"]
    /// The bounds of a trigger's `max_catchup`.
    static let maxCatchupRange = 1...10_000

    // MARK: Pass 1: shapes and types

    /// Compiles a document; nil when any error was reported.
    mutating func compile(_ root: YAMLNode) -> WorkflowDefinition? {
        guard case .mapping = root.kind else {
            sink.error("a workflow file must be a mapping with 'workflow', 'initial' and 'states', found \(root.typeDescription)", at: root.position)
            return nil
        }
        guard let top = fields(of: root, in: "the workflow definition", allowed: Self.topLevelKeys,
                               required: ["workflow", "initial", "states"]) else { return nil }

        let workflowName = top["workflow"].flatMap { name($0, kind: "workflow") }
        let description = top["description"].flatMap { text($0, "'description'") }?.value ?? ""
        let initial = top["initial"].flatMap { text($0, "'initial'") }
        let data = top["data"].flatMap { object($0, "'data'") } ?? [:]
        let states = top["states"].map { readStates($0) } ?? []
        let transitions = top["transitions"].map { readTransitions($0) } ?? []
        let triggers = top["triggers"].map { readTriggers($0) } ?? []
        let historyMaxEntries = top["history"].flatMap { readHistory($0) }
        let retention = top["retention"].flatMap { duration($0, "'retention'") }

        return resolve(name: workflowName, description: description, initial: initial, data: data,
                       states: states, transitions: transitions, triggers: triggers, historyMaxEntries: historyMaxEntries,
                       retention: retention)
    }

    /// `history: { max_entries: N }`.
    private mutating func readHistory(_ node: YAMLNode) -> Int? {
        guard let settings = fields(of: node, in: "'history'", allowed: Self.historyKeys, required: ["max_entries"]),
              let value = settings["max_entries"], let count = integer(value, "'max_entries' of 'history'") else { return nil }
        guard Self.historyMaxEntriesRange.contains(count) else {
            sink.error("'max_entries' of 'history' must be between \(Self.historyMaxEntriesRange.lowerBound) and \(Self.historyMaxEntriesRange.upperBound), found \(count)",
                       at: value.position)
            return nil
        }
        return count
    }

    private mutating func readStates(_ node: YAMLNode) -> [RawState] {
        guard case .mapping(let pairs) = node.kind else {
            sink.error("'states' must be a mapping of state names to their settings, found \(node.typeDescription)", at: node.position)
            return []
        }
        if pairs.isEmpty { sink.error("'states' must define at least one state", at: node.position) }
        var states: [RawState] = []
        for pair in pairs {
            guard let stateName = name(pair.key, kind: "state") else { continue }
            let context = "state '\(stateName.value)'"
            var state = RawState(name: stateName, isFinal: false, onEnter: [], onExit: [], timeout: nil)
            // `paid:` and `paid: {}` both mean a plain state.
            if pair.value.resolvedScalar != .null, let settings = fields(of: pair.value, in: context, allowed: Self.stateKeys) {
                state.isFinal = settings["final"].flatMap { bool($0, "'final' of \(context)") } ?? false
                state.onEnter = settings["on_enter"].map { readHooks($0, key: "on_enter", context: "on_enter hook", of: context) } ?? []
                state.onExit = settings["on_exit"].map { readHooks($0, key: "on_exit", context: "on_exit hook", of: context) } ?? []
                if let timeout = settings["timeout"] {
                    state.timeout = readTimeout(timeout, context: "timeout of \(context)")
                }
            }
            states.append(state)
        }
        return states
    }

    private mutating func readTimeout(_ node: YAMLNode, context: String) -> RawTimeout? {
        guard let settings = fields(of: node, in: context, allowed: Self.timeoutKeys, required: ["after", "transition"]) else { return nil }
        return RawTimeout(after: settings["after"].flatMap { duration($0, "'after' of \(context)") },
                          transition: settings["transition"].flatMap { text($0, "'transition' of \(context)") })
    }

    private mutating func readTransitions(_ node: YAMLNode) -> [RawTransition] {
        if node.resolvedScalar == .null { return [] }
        guard case .mapping(let pairs) = node.kind else {
            sink.error("'transitions' must be a mapping of transition names to their settings, found \(node.typeDescription)", at: node.position)
            return []
        }
        var transitions: [RawTransition] = []
        for pair in pairs {
            guard let transitionName = name(pair.key, kind: "transition") else { continue }
            let context = "transition '\(transitionName.value)'"
            var transition = RawTransition(name: transitionName, from: nil, to: nil, hooks: [])
            if let settings = fields(of: pair.value, in: context, allowed: Self.transitionKeys, required: ["from", "to"]) {
                transition.from = settings["from"].flatMap { readSource($0, context: context) }
                if let to = settings["to"] {
                    if case .sequence = to.kind {
                        sink.error("'to' of \(context) must be a single state, found a list; define one transition per target", at: to.position)
                    } else {
                        transition.to = text(to, "'to' of \(context)")
                    }
                }
                transition.hooks = settings["hooks"].map { readHooks($0, key: "hooks", context: "hook", of: context) } ?? []
            }
            transitions.append(transition)
        }
        return transitions
    }

    private mutating func readSource(_ node: YAMLNode, context: String) -> RawSource? {
        switch node.kind {
        case .scalar:
            guard let state = text(node, "'from' of \(context)") else { return nil }
            return state.value == "*" ? .any : .states([state])
        case .sequence(let items):
            if items.isEmpty {
                sink.error("'from' of \(context) is an empty list; name at least one state, or \"*\" for any non-final state", at: node.position)
                return nil
            }
            var states: [Located<String>] = []
            for item in items {
                guard let state = text(item, "each state in 'from' of \(context)") else { continue }
                if state.value == "*" {
                    sink.error("'*' in 'from' of \(context) must stand alone: write from: \"*\"", at: state.position)
                    continue
                }
                states.append(state)
            }
            return .states(states)
        case .mapping:
            sink.error("'from' of \(context) must be a state, a list of states, or \"*\", found a mapping", at: node.position)
            return nil
        }
    }

    /// Reads the hook list under `key` (`hooks`, `on_enter`, `on_exit`); each hook is named
    /// "`context` N of `owner`" in messages, e.g. "on_enter hook 2 of state 'paid'".
    private mutating func readHooks(_ node: YAMLNode, key: String, context: String, of owner: String) -> [RawHook] {
        guard case .sequence(let items) = node.kind else {
            if node.resolvedScalar == .null { return [] }
            sink.error("'\(key)' of \(owner) must be a list of hooks, found \(node.typeDescription)", at: node.position)
            return []
        }
        var hooks: [RawHook] = []
        for (index, item) in items.enumerated() {
            let hookContext = "\(context) \(index + 1) of \(owner)"
            guard let settings = fields(of: item, in: hookContext, allowed: Self.hookKeys, required: ["plugin"]) else { continue }
            var hook = RawHook(context: hookContext, plugin: nil, with: [:], timeout: nil, retry: .none, onSuccess: nil, onFailure: nil)
            hook.plugin = settings["plugin"].flatMap { name($0, kind: "plugin") }
            hook.with = settings["with"].flatMap { object($0, "'with' of \(hookContext)") } ?? [:]
            hook.timeout = settings["timeout"].flatMap { duration($0, "'timeout' of \(hookContext)") }
            if let retry = settings["retry"] { hook.retry = readRetry(retry, context: "retry of \(hookContext)") ?? .none }
            hook.onSuccess = settings["on_success"].flatMap { text($0, "'on_success' of \(hookContext)") }
            hook.onFailure = settings["on_failure"].flatMap { text($0, "'on_failure' of \(hookContext)") }
            hooks.append(hook)
        }
        return hooks
    }

    private mutating func readRetry(_ node: YAMLNode, context: String) -> RetryPolicy? {
        guard let settings = fields(of: node, in: context, allowed: Self.retryKeys, required: ["attempts"]) else { return nil }
        var attempts: Int?
        if let node = settings["attempts"], let value = integer(node, "'attempts' of \(context)") {
            if (1...WorkflowLimits.retryAttemptsMax).contains(value) {
                attempts = value
            } else {
                sink.error("'attempts' of \(context) must be from 1 to \(WorkflowLimits.retryAttemptsMax) (runs in total, the first included), found \(value)",
                           at: node.position)
            }
        }
        let backoff = settings["backoff"].flatMap { duration($0, "'backoff' of \(context)") }
        let maxBackoff = settings["max_backoff"].flatMap { duration($0, "'max_backoff' of \(context)") }
        if let backoff, let maxBackoff, maxBackoff < backoff, let node = settings["max_backoff"] {
            sink.error("'max_backoff' of \(context) (\(maxBackoff)) is shorter than 'backoff' (\(backoff))", at: node.position)
            return nil
        }
        guard let attempts else { return nil }
        return RetryPolicy(attempts: attempts, backoff: backoff ?? RetryPolicy.backoffDefault, maxBackoff: maxBackoff)
    }

    private mutating func readTriggers(_ node: YAMLNode) -> [RawTrigger] {
        guard case .sequence(let items) = node.kind else {
            if node.resolvedScalar == .null { return [] }
            sink.error("'triggers' must be a list of triggers, found \(node.typeDescription)", at: node.position)
            return []
        }
        var triggers: [RawTrigger] = []
        for (index, item) in items.enumerated() {
            // Name the trigger in messages by its name when it has a readable one.
            var context = "trigger \(index + 1)"
            if case .mapping(let pairs) = item.kind,
               let nameNode = pairs.first(where: { $0.key.scalarText == "name" })?.value,
               let text = nameNode.scalarText, !text.isEmpty {
                context = "trigger '\(YAMLNode.clipped(text))'"
            }
            guard let settings = fields(of: item, in: context, allowed: Self.triggerKeys, required: ["name", "cron"]) else { continue }
            var trigger = RawTrigger(context: context, name: nil, cron: nil, timezone: "UTC", action: nil,
                                     concurrency: .allow, misfire: .once)
            trigger.name = settings["name"].flatMap { name($0, kind: "trigger") }
            // The zone first, so the expression is read in it; an unknown zone is reported at
            // its own node and the expression is still checked (in UTC).
            var zone = CronTimeZone.utc
            if let node = settings["timezone"], let name = text(node, "'timezone' of \(context)") {
                if Self.looksLikeTimeZone(name.value) {
                    do {
                        zone = try CronTimeZone.named(name.value)
                        trigger.timezone = name.value
                    } catch {
                        sink.error("'timezone' of \(context): \(error.message)", at: name.position)
                    }
                } else {
                    sink.error("'timezone' of \(context) '\(YAMLNode.clipped(name.value))' is not a time zone name; use an IANA name such as 'Europe/Berlin' or 'UTC'",
                               at: name.position)
                }
            }
            if let node = settings["cron"], let cron = text(node, "'cron' of \(context)") {
                if cron.value.allSatisfy(\.isWhitespace) {
                    sink.error("'cron' of \(context) is empty; write an expression such as \"0 3 * * *\" or \"@hourly\"", at: node.position)
                } else {
                    do {
                        _ = try CronSchedule(cron.value, zone: zone)
                        trigger.cron = cron.value
                    } catch {
                        sink.error("\(context): \(error.message)", at: cron.position)
                    }
                }
            }
            trigger.action = readAction(settings, context: context)
            if let node = settings["concurrency"] {
                if settings.has("transition") && !settings.has("start") {
                    sink.error("'concurrency' of \(context) applies only to triggers that 'start' instances", at: settings.entries["concurrency"]!.key.position)
                }
                trigger.concurrency = choice(node, "'concurrency' of \(context)") ?? .allow
            }
            if let node = settings["misfire"] {
                trigger.misfire = choice(node, "'misfire' of \(context)") ?? .once
            }
            readReplacementAndCatchup(settings, context: context, into: &trigger)
            triggers.append(trigger)
        }
        return triggers
    }

    /// `replace_transition` (required with `concurrency: replace`, refused otherwise) and
    /// `max_catchup` (1…10,000, only with `misfire: all`).
    private mutating func readReplacementAndCatchup(_ settings: Fields, context: String, into trigger: inout RawTrigger) {
        let replaces = settings.has("concurrency") && trigger.concurrency == .replace
        if let node = settings["replace_transition"] {
            if replaces {
                trigger.replaceTransition = text(node, "'replace_transition' of \(context)")
            } else {
                sink.error("'replace_transition' of \(context) applies only to concurrency: replace", at: settings.entries["replace_transition"]!.key.position)
            }
        } else if replaces {
            sink.error("\(context) has concurrency: replace and needs 'replace_transition': the transition that ends the previous fire's instance",
                       at: settings.entries["concurrency"]!.key.position)
        }
        if let node = settings["max_catchup"] {
            if trigger.misfire != .all {
                sink.error("'max_catchup' of \(context) applies only to misfire: all", at: settings.entries["max_catchup"]!.key.position)
            } else if let value = integer(node, "'max_catchup' of \(context)") {
                if Self.maxCatchupRange.contains(value) {
                    trigger.maxCatchup = value
                } else {
                    sink.error("'max_catchup' of \(context) must be between \(Self.maxCatchupRange.lowerBound) and \(Self.maxCatchupRange.upperBound), found \(value)",
                               at: node.position)
                }
            }
        }
    }

    private mutating func readAction(_ settings: Fields, context: String) -> RawAction? {
        switch (settings["transition"], settings["start"]) {
        case (.some, .some):
            sink.error("\(context) has both 'transition' and 'start'; a trigger does one of them", at: settings.entries["start"]!.key.position)
            return nil
        case (.none, .none):
            sink.error("\(context) needs 'transition' (to move existing instances) or 'start' (to start a new one)", at: settings.position)
            return nil
        case (.none, .some(let start)):
            if let whereKey = settings.entries["where"]?.key {
                sink.error("'where' of \(context) applies only to triggers with a 'transition'", at: whereKey.position)
            }
            return object(start, "'start' of \(context)").map(RawAction.start)
        case (.some(let transitionNode), .none):
            guard let transition = text(transitionNode, "'transition' of \(context)") else { return nil }
            var whereState: Located<String>?
            if let whereNode = settings["where"],
               let selector = fields(of: whereNode, in: "'where' of \(context)", allowed: ["state"], required: ["state"]) {
                whereState = selector["state"].flatMap { text($0, "'state' in 'where' of \(context)") }
            }
            return .transition(transition, whereState: whereState)
        }
    }

    private mutating func choice<Choice: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: String) -> Choice?
    where Choice.RawValue == String {
        guard let value = text(node, what) else { return nil }
        if let result = Choice(rawValue: value.value) { return result }
        let names = Choice.allCases.map(\.rawValue)
        let hint = Suggestions.didYouMean(value.value, among: names)
        sink.error("\(what) must be one of \(names.joined(separator: ", ")), found '\(YAMLNode.clipped(value.value))'\(hint)", at: value.position)
        return nil
    }

    /// An IANA-looking zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`,
    /// `Etc/GMT+5`). Whether the zone exists is checked with the cron expression, later.
    static func looksLikeTimeZone(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 64, let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else {
            return false
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 3 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "+")
            }
        }
    }
}
