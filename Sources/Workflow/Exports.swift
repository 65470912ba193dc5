// `JSONValue` (instance data, hook parameters, trigger data) is part of Workflow's own
// vocabulary, so every module that imports Workflow sees the JSON module as well: Engine
// and API code keep saying `import Workflow` alone.
@_exported import JSON
