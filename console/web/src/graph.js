// The ring graph: Cytoscape.js on a canvas (labels are painted, never parsed as HTML).
import cytoscape from 'cytoscape';

// Customers by their worst flag; entities by kind.
const FLAG_COLOURS = [
  ['fraud', '#b71c1c'], ['blacklisted', '#e53935'], ['black', '#e53935'], ['rejected', '#f4511e'],
  ['held', '#fb8c00'], ['grey', '#fdd835'], ['review', '#fdd835'],
];
const KIND_COLOURS = {
  device: '#5e35b1', phone: '#00897b', ip: '#3949ab', ip_prefix: '#5c6bc0', card: '#6d4c41', email: '#00838f',
  id_number: '#8e24aa', address: '#7cb342', gps_cell: '#558b2f', employer: '#757575', merchant: '#546e7a',
  contact: '#43a047', institution: '#455a64',
};

export function customerColour(flags = []) {
  for (const [flag, colour] of FLAG_COLOURS) if (flags.some((f) => String(f).toLowerCase().includes(flag))) return colour;
  return '#1e88e5';
}

export function kindColour(kind) {
  if (KIND_COLOURS[kind]) return KIND_COLOURS[kind];
  let x = 0;
  for (const ch of String(kind)) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${x % 360}, 35%, 45%)`;
}

/** Cytoscape elements for a ring's members and shared entities. */
export function ringElements(ring) {
  const nodes = [];
  const edges = [];
  for (const m of ring.members || []) {
    nodes.push({ data: { id: `c:${m.customer_id}`, label: m.customer_id, customer: m.customer_id, type: 'customer',
      colour: customerColour(m.flags) } });
  }
  const ids = new Set(nodes.map((n) => n.data.id));
  for (const s of ring.shared || []) {
    const id = `e:${s.kind}:${s.value}`;
    nodes.push({ data: { id, label: `${s.kind}: ${String(s.value).slice(0, 14)}`, type: 'entity', kind: s.kind,
      colour: kindColour(s.kind), hub: s.hub ? 1 : 0 } });
    for (const cid of s.members || []) {
      const target = `c:${cid}`;
      if (!ids.has(target)) {
        ids.add(target);
        nodes.push({ data: { id: target, label: cid, customer: cid, type: 'customer', colour: customerColour([]) } });
      }
      edges.push({ data: { id: `${id}->${target}`, source: id, target, role: s.kind } });
    }
  }
  return [...nodes, ...edges];
}

/** Cytoscape elements for a neighbourhood {center, nodes, edges}. */
export function neighbourhoodElements(nb) {
  const nodes = (nb.nodes || []).map((n) => {
    const customer = n.type === 'customer';
    return { data: { id: String(n.id), label: String(n.label ?? n.id), type: customer ? 'customer' : 'entity', kind: n.type,
      customer: customer ? (n.customer_id ?? n.label ?? n.id) : undefined,
      colour: customer ? customerColour(n.flags || []) : kindColour(n.type), center: String(n.id) === String(nb.center) ? 1 : 0 } };
  });
  const ids = new Set(nodes.map((n) => n.data.id));
  const edges = (nb.edges || []).filter((e) => ids.has(String(e.source)) && ids.has(String(e.target))).map((e, i) => ({
    data: { id: `edge${i}`, source: String(e.source), target: String(e.target), role: e.role } }));
  return [...nodes, ...edges];
}

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 3,
    color: '#333', 'background-color': 'data(colour)', 'font-family': 'system-ui, sans-serif' } },
  { selector: 'node[type = "customer"]', style: { shape: 'ellipse', width: 22, height: 22 } },
  { selector: 'node[type = "entity"]', style: { shape: 'round-rectangle', width: 11, height: 11, 'font-size': 7, color: '#666' } },
  { selector: 'node[hub = 1]', style: { width: 16, height: 16, 'border-width': 2, 'border-color': '#000' } },
  { selector: 'node[center = 1]', style: { 'border-width': 3, 'border-color': '#000' } },
  { selector: 'edge', style: { width: 1, 'line-color': '#bbb', 'curve-style': 'haystack' } },
  { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#ffb300' } },
];

/** Draw elements in a container; clicking a customer calls onCustomer(id). Returns {destroy}. */
export function createGraph(container, elements, { onCustomer } = {}) {
  const cy = cytoscape({
    container, elements, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3,
    layout: { name: elements.length > 400 ? 'concentric' : 'cose', animate: false, padding: 20, nodeRepulsion: 8000 },
  });
  cy.on('tap', 'node[type = "customer"]', (evt) => {
    const id = evt.target.data('customer');
    if (id && onCustomer) onCustomer(id);
  });
  return { cy, destroy: () => cy.destroy() };
}
