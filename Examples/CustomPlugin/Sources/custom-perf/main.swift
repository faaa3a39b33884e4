import FastPerf
import FastPerfCommandLine

// evalscope registers plugins with decorators (`@register_api("custom")`); here the same is one call each,
// made before the command line runs. Registering a built-in name (`custom`) replaces the built-in plugin.
PluginRegistry.register(api: "custom", TeamGatewayPlugin())
PluginRegistry.register(dataset: "custom") { try TopicsDataset(arguments: $0) }

// Every `fastperf` command and flag, now with the plugins above: `custom-perf perf --api custom --dataset custom …`.
FastPerfTool.main()
