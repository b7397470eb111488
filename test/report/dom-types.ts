/**
 * The few DOM types the browser-side callbacks of these tests use. The project compiles
 * without the DOM library (its code runs in Node), so the tests declare what they touch.
 */
export interface DomAttr {
  name: string;
  value: string;
}

export interface DomElement {
  id: string;
  tagName: string;
  textContent: string | null;
  attributes: Iterable<DomAttr>;
  firstElementChild: DomElement | null;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): Iterable<DomElement> & ArrayLike<DomElement>;
  querySelectorAll(selector: string): Iterable<DomElement>;
}

export interface DomDocument extends DomElement {
  body: DomElement;
  documentElement: DomElement;
}

export interface DomStyle {
  color: string;
  fontSize: string;
  backgroundColor: string;
  maxHeight: string;
}
