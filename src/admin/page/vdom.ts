/**
 * The page's only DOM writer: views are pure functions that return plain
 * element trees (`h("dd", { "data-field": "resolution" }, "1920×1080")`), and
 * `patch()` makes a real element's children match a tree, reusing what is
 * there. A panel redrawn every second keeps its elements: a button under the
 * pointer is the same button after the redraw, a text node only changes when
 * its text does.
 *
 * Policy:
 * - text is only ever set as text (`createTextNode`, `data`): no HTML string
 *   is parsed, so a stream name cannot inject markup;
 * - nodes carry no listeners: buttons say what they do in `data-action`
 *   attributes and one delegated listener acts (see actions.ts);
 * - siblings with a `key` are matched by key (a row follows its stream when
 *   the list reorders); the others by position and tag;
 * - what patch() knows about a node it made (tag, key, attributes) is kept
 *   in a WeakMap, bounded by the nodes alive.
 *
 * The DOM it needs is declared here (STYLE 10): a browser's document, or a
 * fake in tests.
 *
 * @module
 */

/** The DOM node kinds patch() makes (Node.nodeType). */
export const NodeType = {
  Element: 1,
  Text: 3,
} as const;
export type NodeType = typeof NodeType[keyof typeof NodeType];

/** A node of the document. */
export interface DomNode {
  readonly nodeType: number;
}

/** A text node. */
export interface DomText extends DomNode {
  data: string;
}

/** An element, as patch() uses it. */
export interface DomElement extends DomNode {
  readonly childNodes: ArrayLike<DomNode>;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  insertBefore(node: DomNode, before: DomNode | null): unknown;
  removeChild(node: DomNode): unknown;
}

/** What makes nodes. */
export interface DomDocument {
  createElement(tag: string): DomElement;
  createTextNode(text: string): DomText;
}

/** An element to be: tag, attributes (already strings), children, and an optional sibling key. */
export interface VElement {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly VNode[];
  readonly key?: string;
}

/** A tree node: an element or a text. */
export type VNode = VElement | string;

/** An attribute value: false, null and undefined leave it out, true sets it empty. */
export type AttrValue = string | number | boolean | null | undefined;

/** A child as written: nested arrays are flattened; null, undefined and false are left out. */
export type Child = VNode | number | null | undefined | false | readonly Child[];

/** Attributes as written; `key` is the sibling key, not an attribute. */
export type Attrs = Readonly<Record<string, AttrValue>>;

function flatten(children: readonly Child[], out: VNode[]): VNode[] {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) flatten(c, out);
    else if (typeof c === "number") out.push(String(c));
    else out.push(c as VNode);
  }
  return out;
}

/** An element: `h("li", { "data-url": "play-rtmp", key: "a" }, "rtmp://...")`. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): VElement {
  const out: Record<string, string> = {};
  let key: string | undefined;
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "key") {
      if (value !== null && value !== undefined && value !== false) key = String(value);
      continue;
    }
    if (value === null || value === undefined || value === false) continue;
    out[name] = value === true ? "" : String(value);
  }
  const el: VElement = { tag, attrs: out, children: flatten(children, []) };
  return key === undefined ? el : { ...el, key };
}

/** What patch() remembers of an element it made. */
interface Made {
  tag: string;
  key: string | undefined;
  attrs: Readonly<Record<string, string>>;
}

const made = new WeakMap<DomNode, Made>();

function create(doc: DomDocument, v: VNode): DomNode {
  if (typeof v === "string") return doc.createTextNode(v);
  const el = doc.createElement(v.tag);
  for (const [name, value] of Object.entries(v.attrs)) el.setAttribute(name, value);
  made.set(el, { tag: v.tag, key: v.key, attrs: v.attrs });
  patch(doc, el, v.children);
  return el;
}

function update(doc: DomDocument, node: DomNode, v: VNode): void {
  if (typeof v === "string") {
    const t = node as DomText;
    if (t.data !== v) t.data = v;
    return;
  }
  const el = node as DomElement;
  const was = made.get(el)!;
  for (const name of Object.keys(was.attrs)) if (!(name in v.attrs)) el.removeAttribute(name);
  for (const [name, value] of Object.entries(v.attrs)) {
    if (was.attrs[name] !== value) el.setAttribute(name, value);
  }
  made.set(el, { tag: v.tag, key: v.key, attrs: v.attrs });
  patch(doc, el, v.children);
}

/** Whether `node` can become `v` in place (same kind, tag and key). */
function fits(node: DomNode | undefined, v: VNode): boolean {
  if (node === undefined) return false;
  if (typeof v === "string") return node.nodeType === NodeType.Text;
  const m = made.get(node);
  return m !== undefined && m.tag === v.tag && m.key === v.key;
}

/**
 * Makes `parent`'s children match `children`: keyed elements are found among
 * the current children by key, the rest are reused in place when they fit,
 * everything else is created; children left over are removed.
 */
export function patch(doc: DomDocument, parent: DomElement, children: readonly VNode[]): void {
  const byKey = new Map<string, DomNode>();
  for (let i = 0; i < parent.childNodes.length; i++) {
    const n = parent.childNodes[i];
    const key = made.get(n)?.key;
    if (key !== undefined) byKey.set(key, n);
  }
  for (let i = 0; i < children.length; i++) {
    const v = children[i];
    const current = parent.childNodes[i] as DomNode | undefined;
    const vKey = typeof v === "string" ? undefined : v.key;
    let node: DomNode | undefined;
    if (vKey !== undefined) {
      const found = byKey.get(vKey);
      if (found && fits(found, v)) {
        node = found;
        byKey.delete(vKey);
      }
    } else if (fits(current, v)) {
      node = current;
    }
    if (node) update(doc, node, v);
    else node = create(doc, v);
    if (node !== current) parent.insertBefore(node, current ?? null);
  }
  while (parent.childNodes.length > children.length) {
    parent.removeChild(parent.childNodes[parent.childNodes.length - 1]);
  }
}

/** The text of a tree: its strings, in order, joined. */
export function textOf(v: VNode): string {
  return typeof v === "string" ? v : v.children.map(textOf).join("");
}

/** Every element of a tree (itself included) for which `match` holds, in document order. */
export function findAll(v: VNode, match: (el: VElement) => boolean, out: VElement[] = []): VElement[] {
  if (typeof v === "string") return out;
  if (match(v)) out.push(v);
  for (const c of v.children) findAll(c, match, out);
  return out;
}

/** The first element of a tree with attribute `name` (equal to `value` when given), or undefined. */
export function findByAttr(v: VNode, name: string, value?: string): VElement | undefined {
  return findAll(v, (el) => name in el.attrs && (value === undefined || el.attrs[name] === value))[0];
}
