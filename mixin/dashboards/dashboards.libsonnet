// grafanaDashboards: file name -> dashboard JSON.
local canaries = import 'canaries.libsonnet';
local canary = import 'canary.libsonnet';

{
  grafanaDashboards+:: {
    'flagger-canaries.json': canaries.dashboard($._config),
    'flagger-canary.json': canary.dashboard($._config),
  },
}
