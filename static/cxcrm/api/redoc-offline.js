"use strict";
// ReDoc's sidebar always shows Redocly's logo from cdn.redoc.ly, and no option turns it off.
// The docs make no request outside this site (they work offline, and the CSP would refuse it
// with an error), so an image given a source on another origin keeps none. Loaded before
// ReDoc, on the ReDoc page only.
(function () {
  const foreign = (value) => {
    const url = new URL(String(value), document.baseURI);
    return url.protocol !== "data:" && url.origin !== window.location.origin;
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get() {
      return src.get.call(this);
    },
    set(value) {
      if (!foreign(value)) {
        src.set.call(this, value);
      }
    },
  });
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && foreign(value)) {
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };
})();
