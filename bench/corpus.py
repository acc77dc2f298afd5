# ruff: noqa: SIM905 (word lists read best as text)
"""Realistic, varied agent text for the search benchmark: sentences drawn from vocabularies in
English, Russian, Greek, Chinese and Japanese with a Zipf-like spread (a few words very common,
most rare), plus tool names, models and errors. Deterministic for a seed."""

from __future__ import annotations

import random

ENGLISH = """the a to of and in is for you your order refund please we this that it on with can be have
not are will account payment delivery shipping customer support ticket invoice billing address
email password reset update status tracking number package warehouse return policy days week
month year price discount coupon subscription plan upgrade downgrade cancel renewal charge card
bank transfer balance credit debit receipt confirmation message reply answer question problem
issue error failure timeout retry request response server database query search result document
report summary analysis data table column row value field record file upload download link page
weather forecast temperature rain snow wind city country flight hotel booking reservation train
ticket schedule meeting calendar reminder note task project deadline team manager engineer code
function class method test bug fix release version deploy build pipeline branch merge review
model prompt token context window embedding vector retrieval agent tool call chain graph memory
thanks hello sorry unfortunately certainly absolutely sure let me check look into right away
""".split()
RUSSIAN = """заказ возврат денег оплата доставка клиент поддержка счет адрес пароль статус посылка склад
политика неделя месяц цена скидка подписка отмена карта банк перевод баланс квитанция сообщение
ответ вопрос проблема ошибка запрос сервер поиск результат документ отчет данные таблица погода
город рейс гостиница бронирование поезд встреча задача проект команда менеджер спасибо здравствуйте
извините конечно проверю""".split()
GREEK = """παραγγελία επιστροφή χρημάτων πληρωμή παράδοση πελάτης υποστήριξη τιμολόγιο διεύθυνση
κωδικός κατάσταση δέμα αποθήκη πολιτική εβδομάδα μήνας τιμή έκπτωση συνδρομή ακύρωση κάρτα τράπεζα
μεταφορά υπόλοιπο απόδειξη μήνυμα απάντηση ερώτηση πρόβλημα σφάλμα αίτημα αναζήτηση αποτέλεσμα
έγγραφο αναφορά δεδομένα καιρός πόλη πτήση ξενοδοχείο κράτηση ευχαριστώ""".split()
CHINESE = """订单 退款 付款 配送 客户 支持 发票 地址 密码 状态 包裹 仓库 政策 价格 折扣 订阅 取消 银行 转账 余额
收据 消息 回答 问题 错误 请求 服务器 搜索 结果 文件 报告 数据 天气 城市 航班 酒店 预订 火车 会议 任务 项目
团队 谢谢 您好 抱歉 当然 申请 已经 通过 处理 查询 物流 退货 优惠券 账户""".split()
JAPANESE = """注文 返金 支払い 配送 お客様 サポート 請求書 住所 パスワード 状態 荷物 倉庫 価格 割引 解約
銀行 振込 残高 領収書 メッセージ 回答 質問 問題 エラー 検索 結果 文書 報告 天気 都市 予約 会議 ありがとう
申し訳ありません 確認します""".split()
LANGUAGES = [(ENGLISH, " ", 0.62), (RUSSIAN, " ", 0.12), (GREEK, " ", 0.08), (CHINESE, "", 0.12), (JAPANESE, "", 0.06)]
TOOLS = ["get_weather", "search_orders", "issue_refund", "lookup_customer", "send_email", "web_search",
         "sql_query", "read_document", "create_ticket", "book_flight", "translate", "calculator"]  # fmt: skip
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-haiku", "gemini-1.5-pro", "llama-3.1-70b"]
ERRORS = ["TimeoutError: upstream did not answer in 30 s", "KeyError: 'customer_id'", "RateLimitError: 429 Too Many Requests",
          "ValueError: invalid literal for int() with base 10", "ConnectionResetError: peer closed connection"]  # fmt: skip


class Corpus:
    def __init__(self, seed: int = 11):
        self.rng = random.Random(seed)
        # Zipf-like weights: the k-th word of a language is 1/(k+1) as likely as the first
        self.weights = [[1 / (k + 1) for k in range(len(words))] for words, _, _ in LANGUAGES]
        self.shares = [share for _, _, share in LANGUAGES]

    def sentence(self, low: int = 6, high: int = 28) -> str:
        pick = self.rng.choices(range(len(LANGUAGES)), weights=self.shares)[0]
        words, joiner, _ = LANGUAGES[pick]
        chosen = self.rng.choices(words, weights=self.weights[pick], k=self.rng.randint(low, high))
        if self.rng.random() < 0.3:  # numbers: order ids, amounts
            chosen.insert(self.rng.randrange(len(chosen)), str(self.rng.randint(1000, 999_999)))
        return joiner.join(chosen) + ("。" if joiner == "" else ".")

    def text(self, sentences: tuple[int, int] = (1, 4)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))
