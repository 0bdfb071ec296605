from django.core.management.base import BaseCommand

from budget.measures import rebuild_rollups


class Command(BaseCommand):
    help = (
        "重建预算执行汇总（每个科目每月的全县数）。导入时会自动更新；"
        "仅在绕过导入直接写入数据后（或升级后首次）需要运行"
    )

    def handle(self, *args, **options):
        written = rebuild_rollups()
        self.stdout.write(f"已重建执行汇总：{written} 行")
