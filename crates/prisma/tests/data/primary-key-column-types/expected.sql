-- AlterTable
ALTER TABLE "Entry" DROP CONSTRAINT "Entry_pkey",
DROP COLUMN "kind",
ADD COLUMN     "kind" "Kind" NOT NULL,
ADD CONSTRAINT "Entry_pkey" PRIMARY KEY ("id", "kind");

-- AlterTable
ALTER TABLE "Counter" DROP CONSTRAINT "Counter_pkey",
ALTER COLUMN "id" SET DATA TYPE BIGINT,
ADD CONSTRAINT "Counter_pkey" PRIMARY KEY ("id");

-- AlterTable
ALTER TABLE "Stamp" DROP CONSTRAINT "Stamp_pkey",
ALTER COLUMN "at" SET DATA TYPE TIMESTAMPTZ(3),
ADD CONSTRAINT "Stamp_pkey" PRIMARY KEY ("id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "Entry_kind_n_key" ON "Entry"("kind", "n");
