
-- AlterTable
ALTER TABLE "Comment" DROP COLUMN "guestId";

