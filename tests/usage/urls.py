"""The site's URLs plus one export route that exists only for the tests: the export
registration mechanism is proven through a real view, not by calling its parts."""

from django.urls import include, path

from cms.usage.exports import RegisteredExportView, csv_export, xlsx_export

TEST_ROWS = [
    ["预算工委", 12, "正常文本"],
    ["=1+1", 2, "+SUM(A1:A2)"],
    ["@cmd", -3, "-危险"],
]


class SampleExportView(RegisteredExportView):
    export_module = "测试模块"

    def get_export_description(self):
        return "测试用数据表"

    def build_export(self):
        headers = ["名称", "数值", "备注"]
        if self.request.GET.get("format") == "csv":
            return csv_export("测试导出", headers, TEST_ROWS)
        return xlsx_export("测试导出", headers, TEST_ROWS)


urlpatterns = [
    path("test-export/", SampleExportView.as_view(), name="test_export"),
    path("", include("cms.urls")),
]
