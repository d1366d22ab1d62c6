// Minimal Grafana dashboard builders (schemaVersion 39), in place of
// grafonnet, which this repository does not vendor. Panels carry hidden
// w/h; layout() turns a flat list of rows and panels into gridPos and ids.
local promql = import 'promql.libsonnet';

{
  schemaVersion:: 39,

  // Every panel and target reads the dashboard's datasource variable.
  datasource:: { type: 'prometheus', uid: '${datasource}' },

  target(expr, legend='', instant=false, format='time_series'):: {
    datasource: $.datasource,
    expr: expr,
    legendFormat: legend,
    instant: instant,
    range: !instant,
    format: format,
  },

  // Common to every panel type. unit and description are mandatory.
  panel(type, title, description, unit, targets, w=12, h=8):: {
    type: type,
    title: title,
    description: description,
    datasource: $.datasource,
    targets: [targets[i] { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1)],
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    options: {},
    w:: w,
    h:: h,
  },

  timeseries(title, description, unit, targets, w=12, h=8, stack=false, bars=false)::
    $.panel('timeseries', title, description, unit, targets, w, h) {
      fieldConfig+: { defaults+: { custom: {
        drawStyle: if bars then 'bars' else 'line',
        fillOpacity: if bars || stack then 80 else 10,
        lineWidth: 1,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
      } } },
      options: {
        legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  stat(title, description, unit, targets, w=4, h=4, color='value')::
    $.panel('stat', title, description, unit, targets, w, h) {
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: color,
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
        wideLayout: true,
      },
    },

  barGauge(title, description, unit, targets, w=12, h=8)::
    $.panel('bargauge', title, description, unit, targets, w, h) {
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        displayMode: 'gradient',
        orientation: 'horizontal',
        showUnfilled: true,
        valueMode: 'color',
        namePlacement: 'auto',
        sizing: 'auto',
      },
    },

  stateTimeline(title, description, targets, mappings, w=24, h=10)::
    $.panel('state-timeline', title, description, 'none', targets, w, h) {
      fieldConfig+: { defaults+: {
        custom: { fillOpacity: 80, lineWidth: 0 },
        color: { mode: 'thresholds' },
        mappings: mappings,
      } },
      options: {
        mergeValues: true,
        showValue: 'auto',
        alignValue: 'left',
        rowHeight: 0.9,
        legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
        tooltip: { mode: 'single', sort: 'none' },
      },
    },

  // Instant table queries joined on their common labels; `columns` renames
  // (and orders) the fields to keep, every other field is hidden.
  table(title, description, unit, targets, columns, w=24, h=10)::
    $.panel('table', title, description, unit, [t { instant: true, range: false, format: 'table' } for t in targets], w, h) {
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            includeByName: { [c.field]: true for c in columns },
            indexByName: { [columns[i].field]: i for i in std.range(0, std.length(columns) - 1) },
            renameByName: { [c.field]: c.title for c in columns },
          },
        },
      ],
    },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [] },

  // Flow layout on Grafana's 24-column grid: panels fill a line left to
  // right and wrap; a row starts a new line.
  layout(items)::
    local step(st, p) =
      if p.type == 'row' then
        local y = st.y + st.lineH;
        st {
          x: 0,
          y: y + 1,
          lineH: 0,
          id: st.id + 1,
          panels+: [p { id: st.id, gridPos: { x: 0, y: y, w: 24, h: 1 } }],
        }
      else
        local wrap = st.x + p.w > 24;
        local x = if wrap then 0 else st.x;
        local y = if wrap then st.y + st.lineH else st.y;
        st {
          x: x + p.w,
          y: y,
          lineH: if wrap then p.h else std.max(st.lineH, p.h),
          id: st.id + 1,
          panels+: [p { id: st.id, gridPos: { x: x, y: y, w: p.w, h: p.h } }],
        };
    std.foldl(step, items, { x: 0, y: 0, lineH: 0, id: 1, panels: [] }).panels,

  // ---- template variables ---------------------------------------------------
  datasourceVariable():: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: { selected: true, text: 'default', value: 'default' },
    hide: 0,
    refresh: 1,
    regex: '',
    options: [],
  },

  // A label_values() variable, refreshed whenever the time range changes
  // (refresh: 2) so canaries that appear or go away are picked up.
  queryVariable(name, label, metricSelector, labelName, multi=false, hide=0):: {
    local q = 'label_values(%s, %s)' % [metricSelector, labelName],
    name: name,
    label: label,
    type: 'query',
    datasource: $.datasource,
    // The classic string form, which every Grafana version since 7 reads.
    query: q,
    definition: q,
    refresh: 2,
    sort: 1,
    hide: hide,
    multi: multi,
    includeAll: multi,
    // Select everything with a regex instead of a list of every value.
    [if multi then 'allValue']: '.+',
    current: if multi then { selected: true, text: ['All'], value: ['$__all'] } else {},
    options: [],
    regex: '',
  },

  dashboard(config, file, title, description, variables, panels):: {
    uid: config.dashboardUIDs[file],
    title: title,
    description: description,
    tags: config.grafana.tags,
    timezone: config.grafana.timezone,
    refresh: config.grafana.refresh,
    time: { from: config.grafana.timeFrom, to: 'now' },
    timepicker: {},
    schemaVersion: $.schemaVersion,
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    annotations: { list: [] },
    links: [{
      title: 'Flagger dashboards',
      type: 'dashboards',
      tags: [config.grafana.tags[0]],
      asDropdown: true,
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
      url: '',
    }],
    templating: { list: variables },
    panels: $.layout(panels),
  },

  // ---- phases ------------------------------------------------------------------
  phaseColors:: {
    Unknown: 'text',
    Initializing: 'light-blue',
    Initialized: 'blue',
    Waiting: 'yellow',
    Progressing: 'semi-dark-blue',
    WaitingPromotion: 'purple',
    Promoting: 'light-green',
    Finalising: 'semi-dark-green',
    Succeeded: 'green',
    Failed: 'red',
    Terminating: 'orange',
    Terminated: 'text',
  },

  // Value mappings for namespace_canary:flagger_canary_status_phase:code.
  phaseMappings:: [{
    type: 'value',
    options: {
      [std.toString(i)]: {
        local p = (['Unknown'] + promql.phases)[i],
        text: p,
        color: $.phaseColors[p],
        index: i,
      }
      for i in std.range(0, std.length(promql.phases))
    },
  }],

  yesNoMappings:: [{
    type: 'value',
    options: {
      '0': { text: 'No', color: 'green', index: 0 },
      '1': { text: 'Yes', color: 'orange', index: 1 },
    },
  }],

  thresholds(steps):: { mode: 'absolute', steps: [{ color: s[0], value: s[1] } for s in steps] },
}
