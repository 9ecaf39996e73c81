/**
 * The report's markup as nunjucks templates (rendered with autoescape on by html.ts): one page, its CSS inline,
 * no script, no external resource, a CSP that forbids loading anything. Pictures are inline SVG whose
 * coordinates timeline.ts and topology.ts computed. Kept in a .ts module so the build ships it with the code.
 */

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dae3}
h3{font-size:15px;margin:18px 0 6px}caption{text-align:left;padding:2px 0;font-weight:600}table.diff{min-width:50%}table{border-collapse:collapse;margin:6px 0 12px}
td,th{border:1px solid #d5dae3;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f4f8}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.meta{color:#5a6272}.pass{color:#176b2c;font-weight:600}.fail{color:#b3261e;font-weight:600}
.wanted{color:#8a5a00}tr.failed td{background:#fdeceb}
.outcome{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e8ebf1}
.o-changed,.o-ok{background:#d9f2df}.o-rolled_back{background:#fff0cc}.o-needs_person{background:#fbd5d2}
.o-failed,.o-unreachable{background:#fbd5d2}
.sev-error{color:#b3261e;font-weight:600}.sev-warning{color:#8a5a00;font-weight:600}.sev-info{color:#3b5b8c}
.evidence{margin:2px 0 6px 18px;color:#39404d}
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#1d2330}
svg .mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.ph-snapshot{fill:#8fa8c8}.ph-change{fill:#5b8def}.ph-trial_boot{fill:#9b6bd6}.ph-verification{fill:#2aa198}
.ph-commit{fill:#2e9e4f}.ph-rollback{fill:#e0a100}.ph-needs_person{fill:#d13b2f}
.bar-failed{stroke:#b3261e;stroke-width:2}
.lane-bg{fill:#f6f7fa}.batch-line{stroke:#1d2330;stroke-dasharray:4 3}.canary-line{stroke:#d13b2f;stroke-dasharray:4 3}
.mark-power_reset{fill:#d13b2f}.mark-interrupted{fill:#1d2330}.mark-needs_person{fill:#d13b2f}.mark-window_wait{fill:#5a6272}
.group{fill:#fbfcfe;stroke:#9aa5b8}.group-vfio{fill:#eef8f0;stroke:#2e9e4f;stroke-width:2}
.group-mixed{stroke:#d13b2f;stroke-width:2}.group-changed{stroke:#e0a100;stroke-width:3}
.dev-vfio{fill:#d9f2df}.dev-changed{fill:#fff0cc}.dev{fill:transparent}
.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;margin-right:4px}
`;

const TOPOLOGY = `
{% macro topology(t) %}
{% if t.missing %}<p class="meta">{{ t.missing }}</p>{% else %}
<p class="meta">{{ t.groups.length }} IOMMU group(s), {{ t.vfioCount }} device(s) on vfio-pci.
{% if t.removed.length %} Gone since the earlier snapshot: {{ t.removed | join(', ') }}.{% endif %}</p>
<svg class="topology" role="img" aria-label="IOMMU groups"
  width="{{ t.width + 2 }}" height="{{ t.height + 2 }}" viewBox="-1 -1 {{ t.width + 2 }} {{ t.height + 2 }}">
{% for g in t.groups %}
<g class="iommu-group" data-group="{{ g.id }}" transform="translate({{ g.x }},{{ g.y }})">
<rect class="group{% if g.vfio %} group-vfio{% endif %}{% if g.mixed %} group-mixed{% endif %}{% if g.changed %} group-changed{% endif %}" width="{{ g.w }}" height="{{ g.h }}" rx="6"/>
<text x="8" y="16" font-weight="600">group {{ '?' if g.id === none else g.id }}{% if g.type %} · {{ g.type }}{% endif %}{% if g.mixed %} · not isolated{% endif %}</text>
{% for d in g.devices %}
<g class="device{% if d.vfio %} vfio{% endif %}{% if d.change %} changed{% endif %}" data-address="{{ d.address }}" data-driver="{{ d.driver or '' }}"{% if d.guest %} data-guest="{{ d.guest }}"{% endif %}>
<rect class="{% if d.change %}dev-changed{% elif d.vfio %}dev-vfio{% else %}dev{% endif %}" x="4" y="{{ d.y - 2 }}" width="{{ g.w - 8 }}" height="18" rx="3"/>
<text x="8" y="{{ d.y + 11 }}" class="mono">{{ d.address }}</text>
<text x="102" y="{{ d.y + 11 }}">{{ d.text | truncate(28, true, "…") }}</text>
<text x="{{ g.w - 8 }}" y="{{ d.y + 11 }}" text-anchor="end" font-weight="{{ '700' if d.vfio else '400' }}">{{ d.driver or 'no driver' }}{% if d.passthrough %} ★{% endif %}{% if d.guest %} ▸ {{ d.guest | truncate(18, true, "…") }}{% endif %}</text>
<title>{{ d.address }} {{ d.text }}: {{ d.driver or 'no driver' }}{% if d.guest %}; guest {{ d.guest }}{% endif %}{% if d.change %} ({{ d.change }}){% endif %}</title>
</g>
{% endfor %}
</g>
{% endfor %}
</svg>
<p class="legend meta"><span><i class="sw" style="background:#d9f2df"></i>vfio-pci</span><span><i class="sw" style="background:#fff0cc"></i>changed since the pre-change snapshot</span><span><i class="sw" style="border:2px solid #d13b2f"></i>vfio-pci beside another driver</span><span>★ named in passthrough_devices</span><span>▸ the libvirt guest it is assigned to</span></p>
{% if t.changes.length %}<table class="topology-changes"><tr><th>device</th><th>change</th></tr>
{% for d in t.changes %}<tr><td class="mono">{{ d.address }}</td><td>{{ d.change }}</td></tr>{% endfor %}</table>{% endif %}
{% endif %}
{% endmacro %}

{% macro findings(r) %}
<p>{{ r.summary }}</p>
{% if r.findings.length %}<ol class="findings">
{% for f in r.findings %}<li class="finding" data-rule="{{ f.rule }}"><span class="sev-{{ f.severity }}">{{ f.severity }}</span>
[{{ f.layer }}] <code>{{ f.rule }}</code>: {{ f.message }}
{% if f.evidence.length %}<div class="evidence mono">{% for e in f.evidence %}{{ e }}<br>{% endfor %}</div>{% endif %}
<div class="meta">→ {{ f.decision }} ({{ f.guide }})</div></li>
{% endfor %}</ol>{% endif %}
{% if r.undecided.length %}<details><summary>{{ r.undecided.length }} check(s) could not decide</summary><ul>
{% for u in r.undecided %}<li><code>{{ u.rule }}</code>: {{ u.reason }}</li>{% endfor %}</ul></details>{% endif %}
{% endmacro %}

{% macro facts(list) %}{% if list.length %}<table class="facts">{% for f in list %}<tr><th>{{ f.name }}</th><td class="mono">{{ f.value }}</td></tr>{% endfor %}</table>{% endif %}{% endmacro %}
`;

const HEAD = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rollgate">
<title>{{ title }}</title><style>${CSS}</style></head><body>`;

/** A run: timeline, then per host verification, diff, topology and findings. */
export const RUN_TEMPLATE = `${TOPOLOGY}${HEAD}
<h1>{{ title }}</h1>
<p class="meta">{{ run.kind }} · <b>{{ run.status }}</b> · started {{ run.startedAt | iso }}{% if run.finishedAt %} · finished {{ run.finishedAt | iso }}{% endif %}{% if run.playbook %} · playbook <code>{{ run.playbook }}</code>{% endif %} · report made {{ generatedAt | iso }}</p>
{% for s in stopped %}<p class="fail">stopped ({{ s.reason }}): {{ s.message }}{% if s.untouched.length %}; untouched: {{ s.untouched | join(', ') }}{% endif %}</p>{% endfor %}

<h2>Timeline</h2>
{% set W = 1100 %}{% set L = 170 %}{% set LH = 30 %}{% set TOP = 34 %}
{% set H = TOP + timeline.lanes.length * LH + 24 %}
<svg id="timeline" role="img" aria-label="timeline" width="{{ W }}" height="{{ H }}" viewBox="0 0 {{ W }} {{ H }}">
{% set PW = W - L - 10 %}
{% for t in timeline.ticks %}<line x1="{{ (L + t.x * PW) | round(1) }}" x2="{{ (L + t.x * PW) | round(1) }}" y1="{{ TOP - 4 }}" y2="{{ H - 20 }}" stroke="#e3e6ec"/>
<text x="{{ (L + t.x * PW) | round(1) }}" y="{{ H - 6 }}" text-anchor="middle" class="mono">{{ t.label }}</text>{% endfor %}
{% for lane in timeline.lanes %}{% set y = TOP + loop.index0 * LH %}
<g class="lane" data-host="{{ lane.host }}" data-outcome="{{ lane.outcome }}">
<rect class="lane-bg" x="{{ L }}" y="{{ y }}" width="{{ PW }}" height="{{ LH - 6 }}"/>
<text x="4" y="{{ y + 16 }}" font-weight="600">{{ lane.host | truncate(18, true, '…') }}</text>
<text x="{{ L - 6 }}" y="{{ y + 16 }}" text-anchor="end" class="meta">{{ lane.outcome }}</text>
{% for b in lane.bars %}<rect class="bar ph-{{ b.phase }}{% if b.failed %} bar-failed{% endif %}" data-phase="{{ b.phase }}" x="{{ (L + b.x * PW) | round(1) }}" y="{{ y + 3 }}" width="{{ (b.w * PW) | atLeast(2) | round(1) }}" height="{{ LH - 12 }}" rx="2"><title>{{ phaseTitles[b.phase] }}: {{ b.label }} ({{ ((b.end - b.start) / 1000) | round(1) }} s){% if b.failed %}, failed{% endif %}</title></rect>{% endfor %}
{% for m in lane.marks %}<path class="mark mark-{{ m.kind }}" data-mark="{{ m.kind }}" d="M{{ (L + m.x * PW) | round(1) }} {{ y - 2 }} l5 -7 h-10 z"><title>{{ m.kind }}: {{ m.label }}</title></path>{% endfor %}
</g>{% endfor %}
{% for b in timeline.batches %}<g class="batch-mark" data-batch="{{ b.label }}"><line class="{{ 'canary-line' if b.phase == 'canary' else 'batch-line' }}" x1="{{ (L + b.x * PW) | round(1) }}" x2="{{ (L + b.x * PW) | round(1) }}" y1="14" y2="{{ H - 20 }}"/>
<text x="{{ (L + b.x * PW + 3) | round(1) }}" y="12">{{ b.label }}</text><title>{{ b.label }}: {{ b.hosts | join(', ') }}</title></g>{% endfor %}
</svg>
<p class="legend meta">{% for k, v in phaseTitles %}<span><svg width="12" height="12"><rect class="ph-{{ k }}" width="12" height="12"/></svg> {{ v }}</span>{% endfor %}
<span>▼ red: power reset / needs a person, black: interrupted</span><span>dashed lines: canary (red) and batch starts</span></p>

{% for h in hosts %}
<section class="host" id="host-{{ loop.index }}" data-host="{{ h.host }}">
<h2>{{ h.host }} <span class="outcome o-{{ h.outcome }}">{{ h.outcome }}</span></h2>
{% for n in h.needsPerson %}<p class="fail">needs a person: {{ n.reason }}</p>
{% if n.evidence.length %}<table>{% for e in n.evidence %}<tr><th>{{ e.name }}</th><td class="mono">{{ e.value }}</td></tr>{% endfor %}</table>{% endif %}{% endfor %}
<h3>Verification</h3>
{% if not h.verifications.length %}<p class="meta">no verification was recorded for this host</p>{% endif %}
{% for v in h.verifications %}
<table class="verification" data-against="{{ v.against }}"><caption>against the {{ 'candidate' if v.against == 'candidate' else 'known-good boot' }}: <span class="{{ 'pass' if v.ok else 'fail' }}">{{ 'passed' if v.ok else 'failed' }}</span> ({{ v.at | iso }})</caption>
<tr><th>check</th><th>expected</th><th>actual</th><th>result</th></tr>
{% for c in v.checks %}<tr class="check {{ 'passed' if c.ok else 'failed' }}"><td>{{ c.name }}{% if not c.required %} <span class="wanted">(wanted)</span>{% endif %}</td><td class="mono">{{ c.expected }}</td><td class="mono">{{ c.actual }}</td><td class="{{ 'pass' if c.ok else 'fail' }}">{{ 'pass' if c.ok else 'FAIL' }}</td></tr>{% endfor %}
</table>{% endfor %}
<h3>Before / after</h3>
{% if not h.diffs.length %}<p class="meta">no later snapshot to compare with</p>{% endif %}
{% for d in h.diffs %}<table class="diff"><caption>{{ d.title }}{% if d.rebooted %} (rebooted){% endif %}</caption>
{% if not d.changes.length %}<tr><td>no change</td></tr>{% endif %}
{% for c in d.changes %}<tr><td class="{{ 'fail' if c.impact == 'regression' else ('pass' if c.impact == 'improvement' else '') }}">{{ c.impact }}</td><td>{{ c.message }}</td></tr>{% endfor %}</table>{% endfor %}
<h3>IOMMU topology</h3>
<p class="meta">{{ h.source }}</p>
{{ facts(h.facts) }}
{{ topology(h.topology) }}
<h3>Findings before the change</h3>
{{ findings(h.report) }}
<details><summary>{{ h.steps.length }} journaled step(s)</summary><table>
<tr><th>#</th><th>module</th><th>task</th><th>status</th><th>message</th></tr>
{% for s in h.steps %}<tr><td>{{ s.id }}</td><td><code>{{ s.module }}</code></td><td>{{ s.task }}</td><td>{{ s.status }}{% if s.undone %} (undone){% endif %}</td><td class="mono">{{ s.message or '' }}</td></tr>{% endfor %}
</table></details>
</section>
{% endfor %}
</body></html>`;

/** `rollgate check --html`: per host its facts, topology and findings. */
export const CHECK_TEMPLATE = `${TOPOLOGY}${HEAD}
<h1>{{ title }}</h1>
<p class="meta">made {{ generatedAt | iso }} · {{ hosts.length }} host(s)</p>
{% for u in unreachable %}<p class="fail">{{ u.host }}: {{ u.status }}{% if u.kind %} ({{ u.kind }}){% endif %}: {{ u.message }}</p>{% endfor %}
{% for h in hosts %}
<section class="host" id="host-{{ loop.index }}" data-host="{{ h.host }}">
<h2>{{ h.host }}</h2>
<p class="meta">{{ h.source }}</p>
{{ facts(h.facts) }}
<h3>IOMMU topology</h3>
{{ topology(h.topology) }}
<h3>Findings</h3>
{{ findings(h.report) }}
</section>
{% endfor %}
</body></html>`;
