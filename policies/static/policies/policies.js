// 摘录所选: text selected inside an article is remembered on that article, and its
// excerpt form then saves the selection instead of the whole article.
document.addEventListener("mouseup", function (event) {
  var article = event.target.closest && event.target.closest(".policy-article");
  if (!article || event.target.closest(".excerpt-form")) return;
  var selection = window.getSelection ? window.getSelection() : null;
  var text = selection && !selection.isCollapsed ? selection.toString().trim() : "";
  if (text && article.contains(selection.getRangeAt(0).commonAncestorContainer)) {
    article.dataset.selection = text;
  } else if (event.target.tagName !== "SUMMARY") {
    delete article.dataset.selection;
  }
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("excerpt-form")) return;
  var article = form.closest(".policy-article");
  form.querySelector(".excerpt-form__text").value = (article && article.dataset.selection) || "";
});
document.addEventListener("DOMContentLoaded", function () {
  if (location.hash) return;
  var first = document.querySelector(".policy-article.is-hit");
  if (first) first.scrollIntoView({ block: "center" });
});
