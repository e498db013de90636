"""Import every model module so the metadata (and Alembic) sees all tables."""

from .archive.models import ArchiveSettings, Document, DocumentVersion  # noqa: F401
from .audit import AuditLog  # noqa: F401
from .auth.models import (  # noqa: F401
    InviteCode,
    LoginAttempt,
    LoginCode,
    RoleGrant,
    User,
    UserSession,
)
from .committees.models import Committee, CommitteeMember  # noqa: F401
from .fees.models import (  # noqa: F401
    Account,
    AreaMonth,
    Bill,
    BillAdjustment,
    CashHandover,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FeeSettings,
    FinanceBoard,
    HandoverConfirmation,
    IncomeMonth,
    Payment,
    ReceiptCounter,
    Reversal,
    ThresholdChange,
)
from .fund.models import (  # noqa: F401
    FundApplication,
    FundBalance,
    FundDisbursement,
    FundShare,
    FundStep,
    WorkPayment,
)
from .income.models import (  # noqa: F401
    CommonIncomeMonth,
    IncomeContract,
    IncomeContractEnd,
    IncomeInstalment,
    IncomeReceipt,
    IncomeReversal,
)
from .messages.models import DevSms, Message, Outbox, SmsPreference  # noqa: F401
from .notices.models import Notice, NoticeComment, NoticeFile, NoticeRead  # noqa: F401
from .oversight.models import (  # noqa: F401
    Certification,
    Milestone,
    OversightSettings,
    ProblemMonth,
    StageChange,
)
from .problems.models import (  # noqa: F401
    Grid,
    GridBuilding,
    GridCompound,
    Problem,
    ProblemDeadline,
    ProblemKind,
    ProblemPhoto,
    ProblemStep,
)
from .public.models import PublicLink, PublicMiss  # noqa: F401
from .reconcile.models import (  # noqa: F401
    ReconDecision,
    StatementImport,
    StatementLine,
    StatementMapping,
    TransferClaim,
)
from .rectify.models import (  # noqa: F401
    DisputeParty,
    Inspection,
    InspectionItem,
    InspectionProblem,
    InspectionResult,
    RectifyPhoto,
    RectifyProblem,
    RectifyProject,
    RectifyStep,
    Volunteer,
    VolunteerSession,
)
from .registry.models import (  # noqa: F401
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    ModelChange,
    Occupant,
    PartyOrganisation,
    Pilot,
    Subdistrict,
    Unit,
)
from .repairs.models import (  # noqa: F401
    Facility,
    Meeting,
    MeetingDecision,
    RepairEvent,
    RepairMonth,
    RepairPhoto,
    RepairTarget,
    RepairTask,
    Work,
)
from .transition.models import Transition, TransitionPerson, TransitionStep  # noqa: F401
from .treasury.models import (  # noqa: F401
    ExpensePaidFrom,
    MoneyAccount,
    MoneyEntry,
    Movement,
    MovementApproval,
)
from .votes.models import Answer, Ballot, Consultation, Elector, ElectorHome, Vote  # noqa: F401
