/// The replicated state machine (placeholder until the engine lands).
enum EngineNamespace {}
